package topics

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The committed documents must be what the generator writes today.
func TestDocsAreCurrent(t *testing.T) {
	for _, d := range []struct {
		path  string
		write func(io.Writer) error
	}{
		{"docs/topics.md", WriteMarkdown},
		{"docs/asyncapi.yaml", WriteAsyncAPI},
	} {
		var want bytes.Buffer
		if err := d.write(&want); err != nil {
			t.Fatalf("render %s: %v", d.path, err)
		}
		got, err := os.ReadFile("../" + d.path)
		if err != nil {
			t.Errorf("%s is stale: run `make docs` (%v)", d.path, err)
			continue
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s is stale: run `make docs` (first difference at line %d)", d.path, firstDiffLine(got, want.Bytes()))
		}
	}
}

func firstDiffLine(a, b []byte) int {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}

func TestDocsAreDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := WriteMarkdown(&a); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("WriteMarkdown gave two different documents")
	}
}

func TestMarkdownHasEveryTopicAndMessage(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	c := mustContracts(t)
	for _, tp := range c.topics {
		if !strings.Contains(doc, "\n### "+tp.Name+"\n") {
			t.Errorf("topics.md has no section for %s", tp.Name)
		}
	}
	for _, md := range c.messages {
		if !strings.Contains(doc, `<a id="`+string(md.FullName())+`"></a>`) {
			t.Errorf("topics.md has no anchor for message %s", md.FullName())
		}
	}
	for _, e := range c.enums {
		if !strings.Contains(doc, `<a id="`+string(e.FullName())+`"></a>`) {
			t.Errorf("topics.md has no anchor for enum %s", e.FullName())
		}
	}
}

func TestAsyncAPIDescribesEveryTopic(t *testing.T) {
	doc := asyncAPIDoc(t)
	if doc["asyncapi"] != "3.0.0" {
		t.Errorf("asyncapi = %v, want 3.0.0", doc["asyncapi"])
	}
	channels := asMap(t, doc["channels"], "channels")
	addresses := map[string]bool{}
	for id, ch := range channels {
		addr, _ := asMap(t, ch, "channels."+id)["address"].(string)
		addresses[addr] = true
	}
	for _, name := range Names() {
		if !addresses[name] {
			t.Errorf("asyncapi.yaml has no channel with address %s", name)
		}
	}
	messages := asMap(t, asMap(t, doc["components"], "components")["messages"], "components.messages")
	for id, m := range messages {
		if asMap(t, m, "components.messages."+id)["payload"] == nil {
			t.Errorf("message %s has no payload schema", id)
		}
	}
}

// Every $ref of the document must point at something in it.
func TestAsyncAPIRefsResolve(t *testing.T) {
	doc := asyncAPIDoc(t)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok && resolve(doc, r) == nil {
				t.Errorf("$ref %s does not resolve", r)
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
}

func resolve(doc map[string]any, ref string) any {
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[strings.NewReplacer("~1", "/", "~0", "~").Replace(part)]
	}
	return cur
}

// A contract without documentation fails: every message, field, enum and enum value has a comment
// in the descriptor image.
func TestEveryContractIsDocumented(t *testing.T) {
	c := mustContracts(t)
	check := func(d protoreflect.Descriptor) {
		if c.comment(d) == "" {
			t.Errorf("%s has no comment in schemas/descriptor.binpb: document it in its .proto, then run "+
				"`make proto` (which rebuilds the image) and `make docs`", d.FullName())
		}
	}
	for _, md := range c.messages {
		check(md)
		for _, fd := range fieldsOf(md) {
			check(fd)
		}
	}
	for _, e := range c.enums {
		check(e)
		for i := range e.Values().Len() {
			check(e.Values().Get(i))
		}
	}
}

func mustContracts(t *testing.T) *contracts {
	t.Helper()
	c, err := loadContracts()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func asyncAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	var b bytes.Buffer
	if err := WriteAsyncAPI(&b); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("asyncapi.yaml is not YAML: %v", err)
	}
	return doc
}

func asMap(t *testing.T, v any, what string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, want a mapping", what, v)
	}
	return m
}
