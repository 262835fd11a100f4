package topics

//go:generate go run ./gen -out ../docs

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/marketinsightspro/marketinsights/schemas"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// This file renders docs/topics.md and docs/asyncapi.yaml from the catalog and the contracts.
// Structure comes from the descriptors linked into Go; comments from the buf image in schemas/,
// since generated Go code keeps no source info.

// generatedBy is the command that regenerates the documents.
const generatedBy = "go run ./topics/gen -out docs"

// contracts is what the documents are made of: the catalog, every message and enum its values
// reach, and the descriptor image that holds their comments.
type contracts struct {
	topics     []Topic
	messages   []protoreflect.MessageDescriptor // every market message reached, by full name
	enums      []protoreflect.EnumDescriptor    // every enum reached, by full name
	valueTopic map[protoreflect.FullName]string // value type -> first topic carrying it
	usedBy     map[protoreflect.FullName][]protoreflect.FullName
	image      *protoregistry.Files
}

func loadContracts() (*contracts, error) {
	image, err := schemas.Files()
	if err != nil {
		return nil, err
	}
	c := &contracts{topics: All(), valueTopic: map[protoreflect.FullName]string{},
		usedBy: map[protoreflect.FullName][]protoreflect.FullName{}, image: image}
	seen := map[protoreflect.FullName]bool{}
	for _, t := range c.topics {
		if t.Value == nil {
			continue
		}
		md := t.Value.ProtoReflect().Descriptor()
		if _, ok := c.valueTopic[md.FullName()]; !ok {
			c.valueTopic[md.FullName()] = t.Name
		}
		c.reach(md, seen)
	}
	slices.SortFunc(c.messages, byFullName)
	slices.SortFunc(c.enums, byFullName)
	return c, nil
}

func byFullName[D protoreflect.Descriptor](a, b D) int {
	return strings.Compare(string(a.FullName()), string(b.FullName()))
}

// reach adds md and every message and enum its fields use, once each.
func (c *contracts) reach(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) {
	if seen[md.FullName()] || isWellKnown(md) {
		return
	}
	seen[md.FullName()] = true
	c.messages = append(c.messages, md)
	for _, fd := range fieldsOf(md) {
		if fd.IsMap() {
			fd = fd.MapValue()
		}
		if d := typeOf(fd); d != nil && !slices.Contains(c.usedBy[d.FullName()], md.FullName()) {
			c.usedBy[d.FullName()] = append(c.usedBy[d.FullName()], md.FullName())
		}
		switch {
		case fd.Enum() != nil && !seen[fd.Enum().FullName()]:
			seen[fd.Enum().FullName()] = true
			c.enums = append(c.enums, fd.Enum())
		case fd.Message() != nil:
			c.reach(fd.Message(), seen)
		}
	}
}

func fieldsOf(md protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	out := make([]protoreflect.FieldDescriptor, md.Fields().Len())
	for i := range out {
		out[i] = md.Fields().Get(i)
	}
	return out
}

// typeOf returns the message or enum of a field, nil for scalars.
func typeOf(fd protoreflect.FieldDescriptor) protoreflect.Descriptor {
	if fd.Enum() != nil {
		return fd.Enum()
	}
	if fd.Message() != nil {
		return fd.Message()
	}
	return nil
}

func isWellKnown(md protoreflect.MessageDescriptor) bool {
	return md.ParentFile().Package() == "google.protobuf"
}

// comment returns d's leading comment from the descriptor image on one line ("" when it has none,
// or when the image predates d).
func (c *contracts) comment(d protoreflect.Descriptor) string {
	src, err := c.image.FindDescriptorByName(d.FullName())
	if err != nil {
		return ""
	}
	loc := src.ParentFile().SourceLocations().ByDescriptor(src)
	return strings.Join(strings.Fields(loc.LeadingComments), " ")
}

// presence says how a field's absence shows: the documents' "presence" column.
func presence(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.IsMap():
		return "map"
	case fd.IsList():
		return "repeated"
	case fd.ContainingOneof() != nil && !fd.ContainingOneof().IsSynthetic():
		return "oneof " + string(fd.ContainingOneof().Name())
	case fd.HasPresence():
		return "optional"
	default:
		return "implicit"
	}
}

func isEvent(md protoreflect.MessageDescriptor) bool {
	fd := md.Fields().ByNumber(1)
	envelope := (&marketv1.Envelope{}).ProtoReflect().Descriptor().FullName()
	return fd != nil && fd.Message() != nil && fd.Message().FullName() == envelope
}

// keyText says what a topic's key holds and where it comes from.
func keyText(t Topic) string {
	if t.KeyField == "" {
		return t.Key
	}
	return fmt.Sprintf("%s (the value's `%s` field)", t.Key, t.KeyField)
}

func kindText(t Topic) string {
	switch t.Kind {
	case KindTable:
		return fmt.Sprintf("goka table of group `%s`", t.Group)
	case KindLoop:
		return fmt.Sprintf("goka loop of group `%s`", t.Group)
	default:
		return string(t.Kind)
	}
}

func configsText(t Topic) string {
	cfg := t.Configs()
	keys := slices.Sorted(maps.Keys(cfg))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("`%s=%s`", k, cfg[k])
	}
	return strings.Join(parts, ", ")
}

// headerDoc documents one record header.
type headerDoc struct {
	name string
	text string
}

// recordHeaders are the headers topics.NewRecord writes on every typed record.
var recordHeaders = []headerDoc{
	{HeaderSchema, "Full name of the value's message, e.g. `market.v1.ProductObserved`. Readers check it " +
		"against the topic's value type; a record without it is decoded as the topic's type."},
	{HeaderContentType, "`" + ContentTypeProtobuf + "`: the value is the message in Protobuf binary encoding."},
	{HeaderEventID, "The envelope's `event_id` (a UUIDv7), on events whose envelope has one, so tools " +
		"can deduplicate without decoding."},
}

// deadLetterHeaders are the headers topics.DeadLetter adds to the original record's headers.
var deadLetterHeaders = []headerDoc{
	{HeaderDLQError, "The error that made the record undeliverable."},
	{HeaderDLQStage, "The consumer that gave up, e.g. `project/clickhouse`."},
	{HeaderDLQTopic, "The record's original topic."},
	{HeaderDLQPartition, "The record's original partition, in decimal."},
	{HeaderDLQOffset, "The record's original offset, in decimal."},
	{HeaderDLQTime, "When the record was dead-lettered, RFC 3339 in UTC."},
}

// WriteMarkdown renders docs/topics.md, the topic reference for integrators.
func WriteMarkdown(w io.Writer) error {
	c, err := loadContracts()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	c.mdIntro(&b)
	c.mdSummary(&b)
	c.mdTopics(&b)
	c.mdMessages(&b)
	c.mdEnums(&b)
	_, err = w.Write(b.Bytes())
	return err
}

var mdEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "<", `\<`, "*", `\*`)

// md escapes text for a Markdown table cell or paragraph.
func md(s string) string { return mdEscaper.Replace(s) }

func lines(b *bytes.Buffer, ls ...string) {
	for _, l := range ls {
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

func (c *contracts) mdIntro(b *bytes.Buffer) {
	lines(b,
		"# Kafka topics",
		"",
		"<!-- Code generated by `"+generatedBy+"` (or `make docs`); DO NOT EDIT. -->",
		"",
		"Every Kafka topic of Market Insights Pro: what its records hold, how they are keyed, who writes and",
		"who reads them. This page is generated from the topic catalog (`topics/catalog.go`) and the Protobuf",
		"contracts (`schemas/market/v1/*.proto`); [asyncapi.yaml](asyncapi.yaml) says the same for tools.",
		"",
		"## Conventions",
		"",
		"**Names.** Event streams are named `market.<name>.v<N>`, where N is the major version of their",
		"contract: a breaking change gets a new package (`market.v2`) and new topics, never an edited field.",
		"Topics of the stream processors follow goka's naming: `<group>-table` is the compacted changelog of a",
		"goka group's table (its state, keyed like its inputs), `<group>-loop` carries the messages a group",
		"sends to itself. Both are internal to their group; read them to debug, never write them.",
		"",
	)
	c.mdOriginalNames(b)
	lines(b,
		"**Values.** Every value is one Protobuf message of package `market.v1` in binary encoding; the",
		"topic fixes its type (the dead-letter topic alone holds raw bytes). Events carry an",
		"[Envelope](#market.v1.Envelope) as field 1: event id (a UUIDv7, the key for deduplication), event",
		"time, producer, schema version, correlation and causation ids. Fields are only ever added.",
		"",
		"**JSON.** `marketinsights tail TOPIC` prints records as JSON lines and `marketinsights produce TOPIC`",
		"reads them. Values are in protojson form with the proto field names used in the tables below:",
		"",
		"- 64-bit integers (`int64`, `uint64`) are strings: `\"129999\"`; 32-bit integers and floating-point numbers are numbers.",
		"- Enums are their value names: `\"AVAILABILITY_IN_STOCK\"`.",
		"- `google.protobuf.Timestamp` is an RFC 3339 string in UTC: `\"2026-11-25T10:00:00Z\"`; `bytes` are base64.",
		"- A field at its zero value without presence tracking (`implicit` below) is left out, and reads as zero.",
		"  An `optional` field that is absent is left out too, and reads as absent: a page that did not show a",
		"  price gives no `price`, never a price of 0.",
		"- `produce` rejects unknown fields, fills a missing envelope's event id, event time, producer and",
		"  schema version, and takes the record key from the value (see keys below). It also accepts the",
		"  lowerCamelCase JSON names and numbers for 64-bit integers, as protojson does.",
		"",
		"**Presence** (field tables): `implicit` fields always have a value (zero when not set); `optional`",
		"fields (proto3 `optional` and message fields) can be absent; `repeated` fields are lists, `map`",
		"fields are objects; of the fields of one `oneof` at most one is set.",
		"",
		"**Headers.** Every record written through the catalog (`topics.NewRecord`) carries:",
		"",
	)
	mdHeaderTable(b, recordHeaders)
	lines(b,
		"Records of goka tables and loops are written by goka and may carry no headers: their topic fixes",
		"the type. Dead letters keep the original headers and add their own (see",
		"[market.dead-letters.v1](#"+DeadLetters+")).",
		"",
		"**Keys.** A key is a UTF-8 string, never Protobuf. On most topics it is a field of the value (named in",
		"each topic's *Key* line; `topics.KeyOf` reads it, and `produce` uses it), so the key always equals",
		"that field. Records with the same key go to the same partition, so the events of one entity (an",
		"ASIN, a keyword, a job, an analysis) are read in the order they were written. A goka group's input",
		fmt.Sprintf("topics and its table share their key and their partition count (%d for topics keyed by ASIN or", EntityPartitions),
		"keyword), so one processor instance sees every event of an entity.",
		"",
	)
}

func (c *contracts) mdOriginalNames(b *bytes.Buffer) {
	lines(b, "The topics of the original plan have these names in the catalog:", "",
		"| original name | topic |", "| --- | --- |")
	for _, t := range c.topics {
		if t.OriginalName != "" {
			fmt.Fprintf(b, "| `%s` | [`%s`](#%s) |\n", t.OriginalName, t.Name, t.Name)
		}
	}
	b.WriteByte('\n')
}

func mdHeaderTable(b *bytes.Buffer, hs []headerDoc) {
	lines(b, "| header | value |", "| --- | --- |")
	for _, h := range hs {
		fmt.Fprintf(b, "| `%s` | %s |\n", h.name, h.text)
	}
	b.WriteByte('\n')
}

func (c *contracts) mdSummary(b *bytes.Buffer) {
	lines(b, "## Summary", "",
		"| topic | kind | partitions | retention | cleanup | key | value | producers | consumers |",
		"| --- | --- | ---: | --- | --- | --- | --- | --- | --- |")
	for _, t := range c.topics {
		fmt.Fprintf(b, "| [`%s`](#%s) | %s | %d | %s | %s | %s | %s | %s | %s |\n",
			t.Name, t.Name, t.Kind, t.Partitions, RetentionText(t), t.Cleanup, md(t.Key), c.mdValueLink(t),
			md(strings.Join(t.Producers, ", ")), md(strings.Join(t.Consumers, ", ")))
	}
	b.WriteByte('\n')
}

func (c *contracts) mdValueLink(t Topic) string {
	if t.Value == nil {
		return "raw bytes"
	}
	return mdLink(t.Value.ProtoReflect().Descriptor())
}

func mdLink(d protoreflect.Descriptor) string {
	return fmt.Sprintf("[%s](#%s)", d.Name(), d.FullName())
}

func (c *contracts) mdTopics(b *bytes.Buffer) {
	lines(b, "## Topics", "")
	anchored := map[protoreflect.FullName]bool{}
	for _, t := range c.topics {
		c.mdTopic(b, t, anchored)
	}
}

func (c *contracts) mdTopic(b *bytes.Buffer, t Topic, anchored map[protoreflect.FullName]bool) {
	lines(b, fmt.Sprintf(`<a id="%s"></a>`, t.Name), "", "### "+t.Name, "", md(t.Summary), "")
	lines(b,
		"- **Kind:** "+kindText(t),
		fmt.Sprintf("- **Partitions:** %d", t.Partitions),
		fmt.Sprintf("- **Retention:** %s (%s)", RetentionText(t), configsText(t)),
		"- **Key:** "+md(keyText(t)),
		"- **Value:** "+c.mdValueText(t),
		"- **Producers:** "+md(strings.Join(t.Producers, ", ")),
		"- **Consumers:** "+md(strings.Join(t.Consumers, ", ")),
	)
	if t.OriginalName != "" {
		lines(b, fmt.Sprintf("- **Original name:** `%s`", t.OriginalName))
	}
	b.WriteByte('\n')
	if t.Value == nil {
		mdDeadLetter(b)
		return
	}
	d := t.Value.ProtoReflect().Descriptor()
	if !anchored[d.FullName()] {
		anchored[d.FullName()] = true
		lines(b, fmt.Sprintf(`<a id="%s"></a>`, d.FullName()), "")
	}
	lines(b, fmt.Sprintf("#### Value: %s", d.Name()), "", md(c.comment(d)), "")
	c.mdFieldTable(b, d)
}

func (c *contracts) mdValueText(t Topic) string {
	if t.Value == nil {
		return "raw bytes: the original record's value, byte for byte"
	}
	d := t.Value.ProtoReflect().Descriptor()
	return fmt.Sprintf("%s (`%s`)", mdLink(d), d.FullName())
}

func mdDeadLetter(b *bytes.Buffer) {
	lines(b, "#### Headers", "",
		"A dead letter is the record no consumer could process, kept byte for byte: its key, its value and",
		"its headers (so `schema` still names the value's type) are the original's. These headers say why",
		"and where it failed:", "")
	mdHeaderTable(b, deadLetterHeaders)
	lines(b,
		"`marketinsights tail "+DeadLetters+"` prints dead letters with their headers and the value as base64.",
		"")
}

func (c *contracts) mdFieldTable(b *bytes.Buffer, d protoreflect.MessageDescriptor) {
	lines(b, "| # | field | type | presence | description |", "| ---: | --- | --- | --- | --- |")
	for _, fd := range fieldsOf(d) {
		fmt.Fprintf(b, "| %d | `%s` | %s | %s | %s |\n", fd.Number(), fd.Name(), mdType(fd), presence(fd), md(c.comment(fd)))
	}
	b.WriteByte('\n')
}

// mdType renders a field's type, linking messages and enums to their tables.
func mdType(fd protoreflect.FieldDescriptor) string {
	if fd.IsMap() {
		return mdType(fd.MapKey()) + " → " + mdType(fd.MapValue())
	}
	switch {
	case fd.Enum() != nil:
		return mdLink(fd.Enum())
	case fd.Message() != nil && isWellKnown(fd.Message()):
		return fmt.Sprintf("`%s`", fd.Message().FullName())
	case fd.Message() != nil:
		return mdLink(fd.Message())
	default:
		return fmt.Sprintf("`%s`", fd.Kind())
	}
}

func (c *contracts) mdMessages(b *bytes.Buffer) {
	lines(b, "## Messages", "", "The messages used inside the values above, each described once.", "")
	for _, d := range c.messages {
		if _, isValue := c.valueTopic[d.FullName()]; isValue {
			continue
		}
		lines(b, fmt.Sprintf(`<a id="%s"></a>`, d.FullName()), "", "### "+string(d.Name()), "", md(c.comment(d)), "")
		lines(b, "Used in: "+c.mdUsedBy(d), "")
		c.mdFieldTable(b, d)
	}
}

func (c *contracts) mdUsedBy(d protoreflect.Descriptor) string {
	users := slices.Clone(c.usedBy[d.FullName()])
	slices.Sort(users)
	links := make([]string, len(users))
	for i, u := range users {
		links[i] = fmt.Sprintf("[%s](#%s)", u.Name(), u)
	}
	return strings.Join(links, ", ")
}

func (c *contracts) mdEnums(b *bytes.Buffer) {
	lines(b, "## Enums", "", "Enum values appear in JSON by name; the zero value (`*_UNSPECIFIED`) means unknown or not stated.", "")
	for _, e := range c.enums {
		lines(b, fmt.Sprintf(`<a id="%s"></a>`, e.FullName()), "", "### "+string(e.Name()), "", md(c.comment(e)), "")
		lines(b, "Used in: "+c.mdUsedBy(e), "")
		lines(b, "| number | name | description |", "| ---: | --- | --- |")
		for i := range e.Values().Len() {
			v := e.Values().Get(i)
			fmt.Fprintf(b, "| %d | `%s` | %s |\n", v.Number(), v.Name(), md(c.comment(v)))
		}
		b.WriteByte('\n')
	}
}

// WriteAsyncAPI renders docs/asyncapi.yaml, an AsyncAPI 3.0.0 document of every topic.
func WriteAsyncAPI(w io.Writer) error {
	c, err := loadContracts()
	if err != nil {
		return err
	}
	out, err := yaml.MarshalWithOptions(c.asyncAPI(), yaml.Indent(2), yaml.IndentSequence(true),
		yaml.UseLiteralStyleIfMultiline(true))
	if err != nil {
		return fmt.Errorf("marshal AsyncAPI document: %w", err)
	}
	if _, err := fmt.Fprintf(w, "# Code generated by `%s` (or `make docs`); DO NOT EDIT.\n", generatedBy); err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

const (
	kafkaBindingVersion = "0.5.0"
	deadLetterMessage   = "DeadLetter"
)

func kv(k string, v any) yaml.MapItem { return yaml.MapItem{Key: k, Value: v} }

func obj(items ...yaml.MapItem) yaml.MapSlice { return items }

func ref(path string) yaml.MapSlice { return obj(kv("$ref", path)) }

func (c *contracts) asyncAPI() yaml.MapSlice {
	return obj(
		kv("asyncapi", "3.0.0"),
		kv("info", asyncInfo()),
		kv("defaultContentType", ContentTypeProtobuf),
		kv("servers", asyncServers()),
		kv("channels", c.asyncChannels()),
		kv("operations", c.asyncOperations()),
		kv("components", obj(kv("messages", c.asyncMessages()), kv("schemas", c.asyncSchemas()))),
	)
}

func asyncInfo() yaml.MapSlice {
	return obj(
		kv("title", "Market Insights Pro events"),
		kv("version", fmt.Sprint(marketv1.SchemaVersion)),
		kv("description", strings.Join([]string{
			"Every Kafka topic of Market Insights Pro. Values are Protobuf messages of package `market.v1`",
			"(schemas/market/v1/*.proto); the payload schemas below describe their protojson form with proto",
			"field names, as `marketinsights tail` prints them and `marketinsights produce` reads them:",
			"64-bit integers are strings, enums are value names, timestamps are RFC 3339 strings, and fields",
			"at their zero value are left out. docs/topics.md is the reference for people.",
		}, "\n")),
	)
}

func asyncServers() yaml.MapSlice {
	return obj(
		kv("local", obj(
			kv("host", "127.0.0.1:19092"),
			kv("protocol", "kafka"),
			kv("description", "The embedded broker started by `marketinsights broker` or `marketinsights demo` "+
				"(the default when --kafka-brokers is empty)."),
		)),
		kv("cluster", obj(
			kv("host", "{bootstrap}"),
			kv("protocol", "kafka"),
			kv("description", "A Kafka cluster, given by --kafka-brokers or MIP_KAFKA_BROKERS."),
			kv("variables", obj(kv("bootstrap", obj(
				kv("default", "localhost:9092"),
				kv("description", "A bootstrap broker, HOST:PORT."),
			)))),
		)),
	)
}

// channelID turns a topic name into an identifier: market.scrape-requests.high.v1 is scrapeRequestsHighV1.
func channelID(topic string) string {
	parts := strings.FieldsFunc(strings.TrimPrefix(topic, "market."), func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	})
	for i := 1; i < len(parts); i++ {
		parts[i] = upperFirst(parts[i])
	}
	return strings.Join(parts, "")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// messageID is the key of a topic's message in components.messages and in its channel.
func messageID(t Topic) string {
	if t.Value == nil {
		return deadLetterMessage
	}
	return t.Schema()
}

func (c *contracts) asyncChannels() yaml.MapSlice {
	var out yaml.MapSlice
	for _, t := range c.topics {
		id := messageID(t)
		out = append(out, kv(channelID(t.Name), obj(
			kv("address", t.Name),
			kv("title", t.Name),
			kv("summary", t.Summary),
			kv("description", channelDescription(t)),
			kv("messages", obj(kv(id, ref("#/components/messages/"+id)))),
			kv("tags", []yaml.MapSlice{obj(kv("name", string(t.Kind)))}),
			kv("bindings", obj(kv("kafka", kafkaChannelBinding(t)))),
		)))
	}
	return out
}

func channelDescription(t Topic) string {
	ls := []string{
		"Kind: " + kindText(t) + ".",
		"Key: " + keyText(t) + ".",
		"Written by: " + strings.Join(t.Producers, ", ") + ".",
		"Read by: " + strings.Join(t.Consumers, ", ") + ".",
	}
	if t.OriginalName != "" {
		ls = append(ls, fmt.Sprintf("Original name: `%s`.", t.OriginalName))
	}
	return strings.Join(ls, "\n")
}

func kafkaChannelBinding(t Topic) yaml.MapSlice {
	cfg := t.Configs()
	var tc yaml.MapSlice
	for _, k := range slices.Sorted(maps.Keys(cfg)) {
		var v any = cfg[k]
		if k == "cleanup.policy" {
			v = strings.Split(cfg[k], ",")
		} else if n, err := strconv.ParseInt(cfg[k], 10, 64); err == nil {
			v = n
		}
		tc = append(tc, kv(k, v))
	}
	return obj(
		kv("topic", t.Name),
		kv("partitions", t.Partitions),
		kv("topicConfiguration", tc),
		kv("bindingVersion", kafkaBindingVersion),
	)
}

func (c *contracts) asyncOperations() yaml.MapSlice {
	var out yaml.MapSlice
	for _, t := range c.topics {
		ch := channelID(t.Name)
		msgs := []yaml.MapSlice{ref("#/channels/" + ch + "/messages/" + messageID(t))}
		out = append(out,
			kv("send"+upperFirst(ch), obj(
				kv("action", "send"),
				kv("channel", ref("#/channels/"+ch)),
				kv("summary", "Written by "+strings.Join(t.Producers, ", ")+"."),
				kv("messages", msgs),
			)),
			kv("consume"+upperFirst(ch), obj(
				kv("action", "receive"),
				kv("channel", ref("#/channels/"+ch)),
				kv("summary", "Read by "+strings.Join(t.Consumers, ", ")+"."),
				kv("messages", msgs),
			)),
		)
	}
	return out
}

// asyncMessages has one message per value type, plus the dead letter.
func (c *contracts) asyncMessages() yaml.MapSlice {
	keys := map[string][]string{} // message id -> key descriptions of its topics
	values := map[string]Topic{}  // message id -> first topic carrying it
	for _, t := range c.topics {
		id := messageID(t)
		if _, ok := values[id]; !ok {
			values[id] = t
		}
		if k := keyText(t); !slices.Contains(keys[id], k) {
			keys[id] = append(keys[id], k)
		}
	}
	var out yaml.MapSlice
	for _, id := range slices.Sorted(maps.Keys(values)) {
		key := obj(kv("type", "string"), kv("description", strings.Join(keys[id], "; ")))
		bindings := obj(kv("kafka", obj(kv("key", key), kv("bindingVersion", kafkaBindingVersion))))
		out = append(out, kv(id, append(c.asyncMessage(values[id]), kv("bindings", bindings))))
	}
	return out
}

func (c *contracts) asyncMessage(t Topic) yaml.MapSlice {
	if t.Value == nil {
		return obj(
			kv("name", deadLetterMessage),
			kv("title", "Dead letter"),
			kv("summary", "A record no consumer could process: its original key, value and headers, with why and where it failed."),
			kv("contentType", "application/octet-stream"),
			kv("headers", deadLetterHeadersSchema()),
			kv("payload", obj(kv("type", "string"), kv("format", "binary"),
				kv("description", "The original record's value, byte for byte; its `schema` header names its type."))),
		)
	}
	md := t.Value.ProtoReflect().Descriptor()
	return obj(
		kv("name", string(md.Name())),
		kv("title", string(md.Name())),
		kv("summary", c.comment(md)),
		kv("contentType", ContentTypeProtobuf),
		kv("headers", headersSchema(md)),
		kv("payload", ref("#/components/schemas/"+string(md.FullName()))),
	)
}

func headerSchema(h headerDoc, extra ...yaml.MapItem) yaml.MapSlice {
	return append(obj(kv("type", "string")), append(extra, kv("description", h.text))...)
}

func headersSchema(md protoreflect.MessageDescriptor) yaml.MapSlice {
	props := obj(
		kv(HeaderSchema, headerSchema(recordHeaders[0], kv("const", string(md.FullName())))),
		kv(HeaderContentType, headerSchema(recordHeaders[1], kv("const", ContentTypeProtobuf))),
	)
	if isEvent(md) {
		props = append(props, kv(HeaderEventID, headerSchema(recordHeaders[2], kv("format", "uuid"))))
	}
	return obj(
		kv("type", "object"),
		kv("description", "Set on every record written through the catalog; goka table and loop records may carry none."),
		kv("properties", props),
	)
}

func deadLetterHeadersSchema() yaml.MapSlice {
	var props yaml.MapSlice
	var required []string
	for _, h := range deadLetterHeaders {
		var extra []yaml.MapItem
		switch h.name {
		case HeaderDLQPartition, HeaderDLQOffset:
			extra = append(extra, kv("pattern", "^-?[0-9]+$"))
		case HeaderDLQTime:
			extra = append(extra, kv("format", "date-time"))
		}
		props = append(props, kv(h.name, headerSchema(h, extra...)))
		required = append(required, h.name)
	}
	return obj(
		kv("type", "object"),
		kv("description", "The original record's headers, kept, and these, added."),
		kv("required", required),
		kv("properties", props),
		kv("additionalProperties", obj(kv("type", "string"))),
	)
}

func (c *contracts) asyncSchemas() yaml.MapSlice {
	var out yaml.MapSlice
	for _, md := range c.messages {
		out = append(out, kv(string(md.FullName()), c.messageSchema(md)))
	}
	for _, e := range c.enums {
		out = append(out, kv(string(e.FullName()), c.enumSchema(e)))
	}
	slices.SortFunc(out, func(a, b yaml.MapItem) int { return strings.Compare(a.Key.(string), b.Key.(string)) })
	return out
}

// messageSchema is the JSON Schema of a message's protojson form.
func (c *contracts) messageSchema(md protoreflect.MessageDescriptor) yaml.MapSlice {
	var props yaml.MapSlice
	for _, fd := range fieldsOf(md) {
		props = append(props, kv(string(fd.Name()), c.fieldSchema(fd)))
	}
	desc := c.comment(md)
	for i := range md.Oneofs().Len() {
		if o := md.Oneofs().Get(i); !o.IsSynthetic() {
			desc += fmt.Sprintf(" At most one of %s is set (oneof `%s`).", oneofFields(o), o.Name())
		}
	}
	return obj(kv("type", "object"), kv("title", string(md.Name())), kv("description", desc), kv("properties", props))
}

func oneofFields(o protoreflect.OneofDescriptor) string {
	names := make([]string, o.Fields().Len())
	for i := range names {
		names[i] = "`" + string(o.Fields().Get(i).Name()) + "`"
	}
	return strings.Join(names, ", ")
}

// fieldSchema is the JSON Schema of one field: its type, its comment, and for a field without
// presence the zero value that its absence stands for.
func (c *contracts) fieldSchema(fd protoreflect.FieldDescriptor) yaml.MapSlice {
	desc := kv("description", c.comment(fd))
	switch {
	case fd.IsMap():
		return obj(kv("type", "object"), desc, kv("additionalProperties", singularSchema(fd.MapValue())))
	case fd.IsList():
		return obj(kv("type", "array"), desc, kv("items", singularSchema(fd)))
	}
	s := singularSchema(fd)
	if len(s) == 1 && s[0].Key == "$ref" {
		s = obj(desc, kv("allOf", []yaml.MapSlice{s})) // siblings of $ref are ignored
	} else {
		s = append(s, desc)
	}
	if !fd.HasPresence() {
		s = append(s, kv("default", zeroJSON(fd)))
	}
	return s
}

// singularSchema is the JSON Schema of one value of a field's type, in protojson form.
func singularSchema(fd protoreflect.FieldDescriptor) yaml.MapSlice {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return obj(kv("type", "string"))
	case protoreflect.BoolKind:
		return obj(kv("type", "boolean"))
	case protoreflect.BytesKind:
		return obj(kv("type", "string"), kv("contentEncoding", "base64"))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return obj(kv("type", "integer"), kv("format", "int32"))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return obj(kv("type", "integer"), kv("format", "uint32"), kv("minimum", 0))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return obj(kv("type", "string"), kv("format", "int64"), kv("pattern", "^-?[0-9]+$"))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return obj(kv("type", "string"), kv("format", "uint64"), kv("pattern", "^[0-9]+$"))
	case protoreflect.FloatKind:
		return obj(kv("type", "number"), kv("format", "float"))
	case protoreflect.DoubleKind:
		return obj(kv("type", "number"), kv("format", "double"))
	case protoreflect.EnumKind:
		return ref("#/components/schemas/" + string(fd.Enum().FullName()))
	default:
		if isWellKnown(fd.Message()) {
			return wellKnownSchema(fd.Message())
		}
		return ref("#/components/schemas/" + string(fd.Message().FullName()))
	}
}

func wellKnownSchema(md protoreflect.MessageDescriptor) yaml.MapSlice {
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		return obj(kv("type", "string"), kv("format", "date-time"))
	case "google.protobuf.Duration":
		return obj(kv("type", "string"), kv("pattern", `^-?[0-9]+(\.[0-9]{1,9})?s$`))
	default:
		return obj(kv("title", string(md.FullName())))
	}
}

// zeroJSON is the protojson value a field without presence has when it is left out.
func zeroJSON(fd protoreflect.FieldDescriptor) any {
	switch fd.Kind() {
	case protoreflect.StringKind, protoreflect.BytesKind:
		return ""
	case protoreflect.BoolKind:
		return false
	case protoreflect.EnumKind:
		return string(fd.Enum().Values().Get(0).Name()) // proto3: the first value is the zero value
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return "0"
	default:
		return 0
	}
}

func (c *contracts) enumSchema(e protoreflect.EnumDescriptor) yaml.MapSlice {
	names := make([]string, e.Values().Len())
	desc := []string{c.comment(e)} // no blank line: it would be written with trailing spaces
	for i := range names {
		v := e.Values().Get(i)
		names[i] = string(v.Name())
		desc = append(desc, fmt.Sprintf("- `%s`: %s", v.Name(), c.comment(v)))
	}
	return obj(kv("type", "string"), kv("title", string(e.Name())), kv("description", strings.Join(desc, "\n")), kv("enum", names))
}
