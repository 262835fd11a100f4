package gokaenv

import (
	"fmt"
	"testing"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKafkaHasherMatchesFranzGo checks goka (through sarama's hash partitioner and goka's own
// uint32 modulo) puts every key where franz-go's default partitioner does.
func TestKafkaHasherMatchesFranzGo(t *testing.T) {
	franz := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	goka := sarama.NewCustomHashPartitioner(KafkaHasher)("t")
	for _, n := range []int{1, 2, 3, 6, 7, 12} {
		for i := range 5000 {
			key := fmt.Sprintf("B0%08d-kw %d", i*7919, i)
			want := franz.Partition(&kgo.Record{Key: []byte(key)}, n)
			got, err := goka.Partition(&sarama.ProducerMessage{Key: sarama.StringEncoder(key)}, int32(n))
			if err != nil {
				t.Fatal(err)
			}
			h := KafkaHasher()
			h.Write([]byte(key))
			view := int(h.Sum32() % uint32(n))
			if int(got) != want || view != want {
				t.Fatalf("key %q, %d partitions: franz-go %d, sarama %d, goka view %d", key, n, want, got, view)
			}
		}
	}
}
