package jobs

import (
	"container/list"
	"sync"
	"time"

	"github.com/costexplorer/costexplorer"
)

// resultCache keeps recently read done processes in memory, bounded in
// bytes of result. A done process never changes until it expires (its token
// is derived from the query and the data version), so serving it from
// memory is safe on every replica; an entry past its ExpiresAt is never
// served, which keeps expiry exact.
type resultCache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	ll    *list.List // front: most recently used
	items map[string]*list.Element
}

func newResultCache(maxBytes int64) *resultCache {
	return &resultCache{max: maxBytes, ll: list.New(), items: map[string]*list.Element{}}
}

// get returns the cached process of orgID with token, if it is live at now.
func (c *resultCache) get(orgID, token string, now time.Time) (*costexplorer.QueryProcess, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[token]
	if !ok {
		return nil, false
	}
	p := el.Value.(*costexplorer.QueryProcess)
	if !now.Before(p.ExpiresAt) {
		c.remove(el)
		return nil, false
	}
	if p.OrgID != orgID {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return p, true
}

// put caches a done process whose result is small enough to be worth it.
func (c *resultCache) put(p *costexplorer.QueryProcess) {
	if c == nil || p.State != costexplorer.ProcessDone {
		return
	}
	n := int64(len(p.Result))
	if n > c.max/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[p.Token]; ok {
		c.remove(el)
	}
	c.items[p.Token] = c.ll.PushFront(p)
	c.size += n
	for c.size > c.max {
		c.remove(c.ll.Back())
	}
}

func (c *resultCache) remove(el *list.Element) {
	p := c.ll.Remove(el).(*costexplorer.QueryProcess)
	delete(c.items, p.Token)
	c.size -= int64(len(p.Result))
}
