package sqlstore

// SetCountsBound sets countsBound for a test and returns the function that
// restores it.
func SetCountsBound(n int) (restore func()) {
	old := countsBound
	countsBound = n
	return func() { countsBound = old }
}

// SetDictBound sets dictBound for a test and returns the function that
// restores it.
func SetDictBound(n int) (restore func()) {
	old := dictBound
	dictBound = n
	return func() { dictBound = old }
}
