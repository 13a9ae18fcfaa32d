package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/costexplorer/costexplorer"
)

func orgID(n int) string { return costexplorer.DeriveID("storetest-org", string(rune('a'+n))) }

func createOrgs(t *testing.T, s costexplorer.Store, orgs ...costexplorer.Organization) {
	t.Helper()
	for i := range orgs {
		if orgs[i].CreatedAt.IsZero() {
			orgs[i].CreatedAt = t0
		}
		must(t, s.CreateOrganization(t.Context(), &orgs[i]))
	}
}

func ids(orgs []*costexplorer.Organization) []string {
	var out []string
	for _, o := range orgs {
		out = append(out, o.ID)
	}
	return out
}

func testOrganizations(t *testing.T, open Opener) {
	t.Run("CreateThenGetReturnsIt", func(t *testing.T) {
		s := open(t)
		want := costexplorer.Organization{ID: orgID(0), Name: "Acme Corp", RequiresAccessList: true, CreatedAt: t0}
		createOrgs(t, s, want)
		got, err := s.Organization(t.Context(), want.ID)
		must(t, err)
		want.CreatedAt = t0.Truncate(time.Microsecond) // microseconds are every store's precision
		if got.ID != want.ID || got.Name != want.Name || got.PayingOrgID != "" || !got.RequiresAccessList || !got.CreatedAt.Equal(want.CreatedAt) {
			t.Fatalf("Organization = %+v, want %+v", got, want)
		}
	})
	t.Run("DuplicateIsConflict", func(t *testing.T) {
		s := open(t)
		createOrgs(t, s, costexplorer.Organization{ID: orgID(0), Name: "A"})
		err := s.CreateOrganization(t.Context(), &costexplorer.Organization{ID: orgID(0), Name: "B"})
		wantCode(t, err, costexplorer.ErrConflict)
		got, err := s.Organization(t.Context(), orgID(0))
		must(t, err)
		if got.Name != "A" {
			t.Fatalf("name = %q after a refused duplicate, want A", got.Name)
		}
	})
	t.Run("InvalidIsRefused", func(t *testing.T) {
		s := open(t)
		err := s.CreateOrganization(t.Context(), &costexplorer.Organization{ID: "NOT-AN-ID", Name: "A"})
		wantCode(t, err, costexplorer.ErrValidation)
		err = s.CreateOrganization(t.Context(), &costexplorer.Organization{ID: orgID(1), Name: ""})
		wantCode(t, err, costexplorer.ErrMissingAttribute)
	})
	t.Run("MissingIsNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.Organization(t.Context(), orgID(9))
		wantCode(t, err, costexplorer.ErrNotFound)
	})
	t.Run("List", func(t *testing.T) {
		s := open(t)
		// Names whose order is the same byte-wise and case-insensitively, so
		// that no collation is imposed on a store; the two Betas order by id.
		createOrgs(t, s,
			costexplorer.Organization{ID: orgID(0), Name: "Beta"},
			costexplorer.Organization{ID: orgID(1), Name: "ACME Labs"},
			costexplorer.Organization{ID: orgID(2), Name: "Acme Shop"},
			costexplorer.Organization{ID: orgID(3), Name: "Gamma"},
			costexplorer.Organization{ID: orgID(4), Name: "Beta"},
		)
		betaIDs := []string{orgID(0), orgID(4)}
		slices.Sort(betaIDs)
		tests := []struct {
			name      string
			filter    costexplorer.OrganizationFilter
			want      []string
			wantTotal int
		}{
			{"AllOrderedByNameThenID", costexplorer.OrganizationFilter{}, append([]string{orgID(1), orgID(2)}, append(betaIDs, orgID(3))...), 5},
			{"PrefixIsCaseInsensitive", costexplorer.OrganizationFilter{NamePrefix: "acme"}, []string{orgID(1), orgID(2)}, 2},
			{"PrefixMatchesNothing", costexplorer.OrganizationFilter{NamePrefix: "zeta"}, nil, 0},
			{"PrefixWithLikeWildcardIsLiteral", costexplorer.OrganizationFilter{NamePrefix: "%"}, nil, 0},
			{"PageCountsAllMatches", costexplorer.OrganizationFilter{Offset: 2, Limit: 2}, betaIDs, 5},
			{"OffsetPastEnd", costexplorer.OrganizationFilter{Offset: 10, Limit: 2}, nil, 5},
			{"LimitOnly", costexplorer.OrganizationFilter{Limit: 1}, []string{orgID(1)}, 5},
			{"IDsRestrict", costexplorer.OrganizationFilter{IDs: []string{orgID(3), orgID(1), orgID(8)}}, []string{orgID(1), orgID(3)}, 2},
			{"EmptyIDsMatchNothing", costexplorer.OrganizationFilter{IDs: []string{}}, nil, 0},
			{"IDsAndPrefix", costexplorer.OrganizationFilter{IDs: []string{orgID(1), orgID(3)}, NamePrefix: "g"}, []string{orgID(3)}, 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, total, err := s.Organizations(t.Context(), tt.filter)
				must(t, err)
				if !slices.Equal(ids(got), tt.want) || total != tt.wantTotal {
					t.Fatalf("Organizations(%+v) = %v, total %d; want %v, total %d", tt.filter, ids(got), total, tt.want, tt.wantTotal)
				}
			})
		}
	})
	t.Run("Links", func(t *testing.T) {
		s := open(t)
		paying, linkedA, linkedB, other := orgID(0), orgID(1), orgID(2), orgID(3)
		createOrgs(t, s,
			costexplorer.Organization{ID: paying, Name: "Paying"},
			costexplorer.Organization{ID: linkedA, Name: "Linked A", PayingOrgID: paying},
			costexplorer.Organization{ID: linkedB, Name: "Linked B"},
			costexplorer.Organization{ID: other, Name: "Other"},
		)
		must(t, s.LinkOrganization(t.Context(), paying, linkedB))
		got, err := s.LinkedOrganizations(t.Context(), paying)
		must(t, err)
		want := []string{linkedA, linkedB}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("LinkedOrganizations = %v, want %v", got, want)
		}
		o, err := s.Organization(t.Context(), linkedB)
		must(t, err)
		if o.PayingOrgID != paying {
			t.Fatalf("PayingOrgID = %q, want %q", o.PayingOrgID, paying)
		}
		none, err := s.LinkedOrganizations(t.Context(), other)
		must(t, err)
		if len(none) != 0 {
			t.Fatalf("LinkedOrganizations(other) = %v, want none", none)
		}

		t.Run("MissingIsNotFound", func(t *testing.T) {
			wantCode(t, s.LinkOrganization(t.Context(), orgID(9), other), costexplorer.ErrNotFound)
			wantCode(t, s.LinkOrganization(t.Context(), paying, orgID(9)), costexplorer.ErrNotFound)
		})
		t.Run("LinkedCannotPay", func(t *testing.T) {
			wantCode(t, s.LinkOrganization(t.Context(), linkedA, other), costexplorer.ErrValidation)
			err := s.CreateOrganization(t.Context(), &costexplorer.Organization{ID: orgID(5), Name: "X", PayingOrgID: linkedA})
			wantCode(t, err, costexplorer.ErrValidation)
		})
		t.Run("PayerCannotBeLinked", func(t *testing.T) {
			wantCode(t, s.LinkOrganization(t.Context(), other, paying), costexplorer.ErrValidation)
		})
		t.Run("SelfLinkIsRefused", func(t *testing.T) {
			err := s.LinkOrganization(t.Context(), other, other)
			if code := costexplorer.ErrorCode(err); code != costexplorer.ErrValidation {
				t.Fatalf("self link: %v, want %s", err, costexplorer.ErrValidation)
			}
		})
		t.Run("UnknownPayingAtCreateIsNotFound", func(t *testing.T) {
			err := s.CreateOrganization(t.Context(), &costexplorer.Organization{ID: orgID(6), Name: "Y", PayingOrgID: orgID(9)})
			wantCode(t, err, costexplorer.ErrNotFound)
		})
	})
}
