package mediasoupclient

import (
	"runtime"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtp"
)

// BenchmarkNackHistory writes the packets of one shared layer to the send
// streams of 50 publishers, as a fleet's track does, through pion's NACK
// responder (the baseline, measured in the same run) and through the
// retransmitter. It reports the cost per packet and binding and the heap
// each stream's history holds once full (256 packets of 1000 bytes).
func BenchmarkNackHistory(b *testing.B) {
	const publishers = 50
	newPion := func() interceptor.Interceptor {
		f, err := nack.NewResponderInterceptor(nack.ResponderSize(retransmitHistory))
		if err != nil {
			b.Fatal(err)
		}
		i, err := f.NewInterceptor("")
		if err != nil {
			b.Fatal(err)
		}
		return i
	}
	for _, bc := range []struct {
		name string
		new  func() interceptor.Interceptor
	}{{"pion-responder", newPion}, {"retransmitter", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.new == nil {
				// One store for the fleet, as sharedPayloads is.
				store := newPayloadStore()
				bc.new = func() interceptor.Interceptor {
					i, _ := newRetransmitterFactory(store, nil).NewInterceptor("")
					return i
				}
			}
			benchHistory(b, publishers, bc.new)
		})
	}
}

func benchHistory(b *testing.B, publishers int, newInterceptor func() interceptor.Interceptor) {
	discard := interceptor.RTPWriterFunc(func(_ *rtp.Header, p []byte, _ interceptor.Attributes) (int, error) { return len(p), nil })
	before := heapInUse()
	writers := make([]interceptor.RTPWriter, publishers)
	closers := make([]interceptor.Interceptor, publishers)
	for i := range writers {
		closers[i] = newInterceptor()
		info := &interceptor.StreamInfo{
			SSRC: uint32(1000 + 2*i), SSRCRetransmission: uint32(1001 + 2*i), PayloadType: 96, PayloadTypeRetransmission: 97,
			RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}},
		}
		writers[i] = closers[i].BindLocalStream(info, discard)
	}
	payload := make([]byte, 1000)
	h := rtp.Header{Version: 2, PayloadType: 96, Extension: true}
	_ = h.SetExtension(3, []byte{0, 1}) // a transport-wide sequence number
	write := func(seq uint16) {
		payload[0], payload[1] = byte(seq>>8), byte(seq)
		h.SequenceNumber, h.Timestamp = seq, uint32(seq)*3000
		for i, w := range writers {
			h.SSRC = uint32(1000 + 2*i)
			_, _ = w.Write(&h, payload, nil)
		}
	}
	for seq := range uint16(retransmitHistory) {
		write(seq)
	}
	held := heapInUse() - before
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		write(uint16(retransmitHistory + i))
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*publishers), "ns/packet-binding")
	b.ReportMetric(float64(held)/float64(publishers), "heap-B/stream")
	for _, c := range closers {
		_ = c.Close()
	}
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
