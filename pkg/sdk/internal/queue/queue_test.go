package queue

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestOrderAcrossProducers(t *testing.T) {
	q := New()
	defer q.Close()
	const producers, per = 8, 200
	var mu sync.Mutex
	seen := map[int][]int{}
	running := 0
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if err := q.Add(func(context.Context) {
					mu.Lock()
					running++
					if running != 1 {
						t.Errorf("%d tasks running at once", running)
					}
					seen[p] = append(seen[p], i)
					running--
					mu.Unlock()
				}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := q.Run(context.Background(), func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for p := 0; p < producers; p++ {
		if len(seen[p]) != per {
			t.Fatalf("producer %d: %d tasks ran, want %d", p, len(seen[p]), per)
		}
		for i, v := range seen[p] {
			if v != i {
				t.Fatalf("producer %d: task %d ran at position %d", p, v, i)
			}
		}
	}
}

func TestAddDuringTaskRunsAfterIt(t *testing.T) {
	q := New()
	defer q.Close()
	var order []string
	err := q.Run(context.Background(), func(context.Context) error {
		order = append(order, "outer-start")
		_ = q.Add(func(context.Context) { order = append(order, "inner") })
		order = append(order, "outer-end")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = q.Run(context.Background(), func(context.Context) error { return nil })
	want := []string{"outer-start", "outer-end", "inner"}
	if len(order) != 3 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] {
		t.Fatalf("order %v, want %v", order, want)
	}
}

func TestCloseCancelsRunningTaskAndRejectsNew(t *testing.T) {
	q := New()
	started := make(chan struct{})
	cancelled := make(chan struct{})
	_ = q.Add(func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		close(cancelled)
	})
	ran := false
	_ = q.Add(func(context.Context) { ran = true })
	<-started
	q.Close()
	select {
	case <-cancelled:
	default:
		t.Fatal("running task not cancelled by Close")
	}
	if ran {
		t.Fatal("backlog ran after Close")
	}
	if err := q.Add(func(context.Context) {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Add after Close: %v", err)
	}
}

func TestDrainRunsBacklog(t *testing.T) {
	q := New()
	n := 0
	for i := 0; i < 50; i++ {
		_ = q.Add(func(context.Context) { n++ })
	}
	q.Drain()
	if n != 50 {
		t.Fatalf("ran %d, want 50", n)
	}
}

func TestRunHonoursCallerContext(t *testing.T) {
	q := New()
	defer q.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := q.Run(ctx, func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}
