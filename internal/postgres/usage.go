package postgres

import "fmt"

// Usage reads live in internal/sqlstore. lookup serves ingest.go's deltas.

// lookup returns the 24-hex id of a surrogate key, or an error for a dangling
// one (which Verify would also report).
func lookup(m map[int32]string, id int32, what string) (string, error) {
	ext, ok := m[id]
	if !ok {
		return "", fmt.Errorf("dangling %s key %d", what, id)
	}
	return ext, nil
}
