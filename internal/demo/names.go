package demo

import (
	"strconv"
	"time"
)

// Word lists for names that look like the ones real Atlas customers use.
var (
	orgPrefixes = []string{
		"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay",
		"Soylent", "Cyberdyne", "Tyrell", "Wonka", "Oceanic", "Monarch", "Aperture",
		"Nakatomi", "Massive", "Pied Piper", "Gringotts", "Dunder Mifflin", "Prestige",
		"Sirius", "Blue Sun", "Weyland", "Bluth", "Krusty", "Sterling", "Octan",
	}
	orgDomains = []string{
		"Payments", "Logistics", "Health", "Retail", "Analytics", "Media", "Travel",
		"Energy", "Insurance", "Games", "Labs", "Foods", "Mobility", "Bank",
	}
	projectWords = []string{
		"checkout", "orders", "payments", "catalog", "search", "inventory", "billing",
		"identity", "analytics", "notifications", "shipping", "recommendations",
		"reviews", "loyalty", "pricing", "fraud", "ledger", "reporting", "ingest",
		"telemetry", "mobile-api", "web", "partners", "support",
	}
	projectEnvs  = []string{"prod", "staging", "dev", "qa"}
	clusterWords = []string{
		"orders", "events", "sessions", "users", "catalog", "metrics", "logs", "carts",
		"payments", "profiles", "ledger", "search", "audit", "cache", "inventory",
	}
	regionCodes = map[string][]string{
		"AWS":   {"us-east", "us-west", "eu", "ap"},
		"GCP":   {"us-central", "eu-west", "asia"},
		"AZURE": {"eastus", "westeurope", "uksouth"},
	}
)

// orgNames returns n distinct organization names; the paying organization
// is always "Acme Payments", the rest a seeded shuffle of the combinations.
func orgNames(r *rng, n int) []string {
	combos := make([]string, 0, len(orgPrefixes)*len(orgDomains))
	for _, p := range orgPrefixes {
		for _, d := range orgDomains {
			if p+" "+d != "Acme Payments" {
				combos = append(combos, p+" "+d)
			}
		}
	}
	shuffle(r, combos)
	out := []string{"Acme Payments"}
	for i := 0; len(out) < n; i++ {
		name := combos[i%len(combos)]
		if round := i / len(combos); round > 0 {
			name += " " + strconv.Itoa(round+1)
		}
		out = append(out, name)
	}
	return out
}

// projectNames returns n distinct project names for one organization, like
// "checkout-prod".
func projectNames(r *rng, n int) []string {
	combos := make([]string, 0, len(projectWords)*len(projectEnvs))
	for _, w := range projectWords {
		for _, e := range projectEnvs {
			combos = append(combos, w+"-"+e)
		}
	}
	shuffle(r, combos)
	out := make([]string, n)
	for i := range out {
		out[i] = combos[i%len(combos)]
		if round := i / len(combos); round > 0 {
			out[i] += "-" + strconv.Itoa(round+1)
		}
	}
	return out
}

// clusterName returns a name like "orders-eu-1", unique within used (the
// names of the project's clusters so far).
func clusterName(r *rng, provider string, used map[string]bool) string {
	regions := regionCodes[provider]
	base := clusterWords[r.intn(len(clusterWords))] + "-" + regions[r.intn(len(regions))] + "-"
	for n := 1; ; n++ {
		name := base + strconv.Itoa(n)
		if !used[name] {
			used[name] = true
			return name
		}
	}
}

func shuffle(r *rng, s []string) {
	for i := len(s) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		s[i], s[j] = s[j], s[i]
	}
}

// timeOfDay returns a whole-second offset within a day.
func timeOfDay(r *rng) time.Duration { return time.Duration(r.intn(86400)) * time.Second }
