package jobs

import (
	"container/list"
	"sync"
	"time"

	"github.com/costexplorer/costexplorer"
)

// resultCache keeps recently read done processes in memory, bounded in
// bytes: those of each result and of every form derived from it (Form). A
// done process never changes until it expires (its token is derived from
// the query and the data version), so serving it from memory is safe on
// every replica; an entry past its ExpiresAt is never served, which keeps
// expiry exact.
type resultCache struct {
	mu    sync.Mutex
	max   int64
	size  int64
	ll    *list.List // front: most recently used; values are *cacheEntry
	items map[string]*list.Element
}

// cacheEntry is a cached process and the forms derived from its result.
type cacheEntry struct {
	p       *costexplorer.QueryProcess
	size    int64 // bytes of p.Result and of every kept form
	forms   map[string]*form
	removed bool // evicted or expired: a build finishing later keeps nothing
}

// form is one derived body of a result. done is closed once b and err are
// set; b is nil after a build whose bytes were not kept.
type form struct {
	started bool // its build has started (under the cache's mutex)
	done    chan struct{}
	b       []byte
	err     error
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
	e := el.Value.(*cacheEntry)
	if !now.Before(e.p.ExpiresAt) {
		c.remove(el)
		return nil, false
	}
	if e.p.OrgID != orgID {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return e.p, true
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
	c.items[p.Token] = c.ll.PushFront(&cacheEntry{p: p, size: n})
	c.size += n
	c.evict()
}

// evict drops the least recently used entries until the cache is within
// its bound.
func (c *resultCache) evict() {
	for c.size > c.max && c.ll.Len() > 0 {
		c.remove(c.ll.Back())
	}
}

func (c *resultCache) remove(el *list.Element) {
	e := c.ll.Remove(el).(*cacheEntry)
	delete(c.items, e.p.Token)
	c.size -= e.size
	e.removed = true
}

// form returns the body name derived from the cached process p, building
// it with build on the first ask; see Runner.Form.
func (c *resultCache) form(p *costexplorer.QueryProcess, name string, build func() ([]byte, error), wait bool) ([]byte, bool, error) {
	if c == nil {
		return nil, false, nil
	}
	c.mu.Lock()
	el, ok := c.items[p.Token]
	if !ok || el.Value.(*cacheEntry).p != p {
		c.mu.Unlock()
		return nil, false, nil
	}
	e := el.Value.(*cacheEntry)
	f := e.forms[name]
	if f == nil {
		if e.forms == nil {
			e.forms = map[string]*form{}
		}
		f = &form{done: make(chan struct{})}
		e.forms[name] = f
		if !wait {
			// The first ask without waiting is only noted: a result read
			// once is not worth the build.
			c.mu.Unlock()
			return nil, false, nil
		}
	}
	start := !f.started
	f.started = true
	c.mu.Unlock()
	if start {
		if !wait {
			go c.build(e, name, f, build)
			return nil, false, nil
		}
		b, err := c.build(e, name, f, build)
		return b, err == nil, err
	}
	if !wait {
		select {
		case <-f.done:
		default:
			return nil, false, nil
		}
	}
	<-f.done
	return f.b, f.b != nil || f.err != nil, f.err
}

// build runs build for the form name of e and keeps its bytes while e is
// cached and, with them, takes at most half the cache: beyond that a form
// is not worth the room of the other results it would evict. A failed
// build is forgotten, so that a later ask tries again.
func (c *resultCache) build(e *cacheEntry, name string, f *form, build func() ([]byte, error)) ([]byte, error) {
	b, err := build()
	c.mu.Lock()
	n := int64(len(b))
	switch {
	case err != nil:
		delete(e.forms, name)
	case e.removed || e.size+n > c.max/2:
		// Not kept: later asks find no bytes and build for themselves.
	default:
		f.b = b
		e.size += n
		c.size += n
		c.evict()
	}
	f.err = err
	c.mu.Unlock()
	close(f.done)
	return b, err
}
