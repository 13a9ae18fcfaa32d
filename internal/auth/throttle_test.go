package auth

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	cfg := BruteForceConfig{IPLimit: 4, KeyLimit: 6, Forget: time.Second, Delay: 100 * time.Millisecond, MaxDelay: 250 * time.Millisecond, MaxEntries: 100}
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

	t.Run("BlocksAtTheLimitThenLetsBackIn", func(t *testing.T) {
		th := newThrottle(cfg)
		ip := th.ipKey(netip.MustParseAddr("192.0.2.1"))
		for i := range 3 {
			th.fail(now, ip)
			if _, blocked := th.blocked(now, ip); blocked {
				t.Fatalf("blocked after %d failures, limit 4", i+1)
			}
		}
		th.fail(now, ip)
		wait, blocked := th.blocked(now, ip)
		if !blocked || wait != time.Second {
			t.Fatalf("after 4 failures: blocked=%v wait=%v, want true 1s", blocked, wait)
		}
		if _, blocked := th.blocked(now.Add(wait), ip); blocked {
			t.Fatal("still blocked after the announced wait")
		}
		other := th.ipKey(netip.MustParseAddr("192.0.2.2"))
		if _, blocked := th.blocked(now, other); blocked {
			t.Fatal("another address is blocked")
		}
	})
	t.Run("DelayGrowsPastHalfTheLimitAndIsCapped", func(t *testing.T) {
		th := newThrottle(cfg)
		k := th.credentialKey("apikey abcdefgh")
		var got []time.Duration
		for range 7 {
			got = append(got, th.fail(now, k))
		}
		want := []time.Duration{0, 0, 0, 100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond, 250 * time.Millisecond}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("delays = %v, want %v", got, want)
		}
	})
	t.Run("NegativeDelayDisablesSlowing", func(t *testing.T) {
		c := cfg
		c.Delay = -1
		th := newThrottle(c)
		k := th.ipKey(netip.MustParseAddr("192.0.2.1"))
		for range 10 {
			if d := th.fail(now, k); d != 0 {
				t.Fatalf("delay %v with slowing disabled", d)
			}
		}
	})
	t.Run("SuccessForgetsTheAddress", func(t *testing.T) {
		th := newThrottle(cfg)
		ip := th.ipKey(netip.MustParseAddr("192.0.2.1"))
		for range 4 {
			th.fail(now, ip)
		}
		th.succeed(ip)
		if _, blocked := th.blocked(now, ip); blocked {
			t.Fatal("blocked after success")
		}
	})
	t.Run("BoundedSize", func(t *testing.T) {
		th := newThrottle(cfg)
		for i := range 1000 {
			th.fail(now, th.ipKey(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})))
			if n := th.size(); n > cfg.MaxEntries {
				t.Fatalf("%d buckets, bound %d", n, cfg.MaxEntries)
			}
		}
	})
}
