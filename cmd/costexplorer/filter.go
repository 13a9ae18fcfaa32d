package main

const filterHelp = `A --filter is one or more conditions joined by "and" (repeat --filter to add more):
  DIM=V1,V2     the item's value is one of V1, V2 (for a tag: one of its values is)
  DIM!=V1,V2    it is none of them (items without a value pass)
  DIM=          the item has no value (no project, no cluster, no such tag)
  DIM!=         the item has a value
DIM is organizations, projects, clusters, services, skus (or the singular), or tag:KEY.
Ids are 24 lower-case hex characters; services are the cost explorer's names.
  --filter 'tag:environment=production and services=Clusters,Backup'
  --filter 'tag:team!=' --filter 'projects!=0123456789abcdef01234567'
For or, nesting, or values with commas, give the API's filter JSON instead:
  --filter '{"or":[{"dimension":"tag:team","in":["payments"]},{"dimension":"tag:team","absent":true}]}'`

// parseEach parses each value of the repeatable flag name (--filter,
// --group-by) with parse, in order; the first that fails is a usage error
// naming the flag.
func parseEach[T any](name string, vals []string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, v := range vals {
		x, err := parse(v)
		if err != nil {
			return nil, usageErrorf("%s: %v", name, err)
		}
		out = append(out, x)
	}
	return out, nil
}
