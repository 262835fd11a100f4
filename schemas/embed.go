// Package schemas holds the Protobuf contracts of every event (market/v1) and their descriptor image.
//
// The Go code generated from the contracts carries descriptors without source info, so it has no
// comments; the image, built by `go tool -modfile=tools/go.mod buf build -o schemas/descriptor.binpb`,
// keeps them, and the generated documentation reads them from here.
package schemas

import (
	_ "embed"
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// DescriptorSet is the buf image of the contracts (a FileDescriptorSet with source info and imports).
//
//go:embed descriptor.binpb
var DescriptorSet []byte

// FileDescriptorSet parses DescriptorSet.
func FileDescriptorSet() (*descriptorpb.FileDescriptorSet, error) {
	var fds descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(DescriptorSet, &fds); err != nil {
		return nil, fmt.Errorf("schemas: parse descriptor.binpb: %w", err)
	}
	return &fds, nil
}

// Files returns the files of DescriptorSet as a registry whose descriptors keep their comments.
func Files() (*protoregistry.Files, error) { return files() }

var files = sync.OnceValues(func() (*protoregistry.Files, error) {
	fds, err := FileDescriptorSet()
	if err != nil {
		return nil, err
	}
	reg, err := protodesc.NewFiles(fds)
	if err != nil {
		return nil, fmt.Errorf("schemas: build registry from descriptor.binpb: %w", err)
	}
	return reg, nil
})
