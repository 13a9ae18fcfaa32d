// Package sqlstore is the SQL core shared by internal/sqlite and
// internal/postgres: the rules of the store and the query text, written
// once over a small [Querier] and a [Runner] that each dialect provides,
// with the fragments that differ carried by a [Dialect].
package sqlstore
