package costexplorer

import (
	"net/netip"
	"testing"
)

func TestAccessListAllows(t *testing.T) {
	l := AccessList{"10.1.0.0/16", "192.0.2.7", "2001:db8::/32"}
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"10.1.200.3", true}, {"10.2.0.1", false}, {"192.0.2.7", true}, {"192.0.2.8", false},
		{"::ffff:192.0.2.7", true}, {"2001:db8::1", true}, {"2001:db9::1", false},
	} {
		if got := l.Allows(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("Allows(%s) = %v, want %v", tc.ip, got, tc.want)
		}
	}
	if (AccessList{}).Allows(netip.MustParseAddr("127.0.0.1")) {
		t.Error("an empty list allows nothing by itself; the caller decides what an empty list means")
	}
	if err := ValidateAccessList(AccessList{"10.0.0.0/8", "::1"}); err != nil {
		t.Error(err)
	}
	if err := ValidateAccessList(AccessList{"10.0.0.0/33"}); ErrorCode(err) != ErrValidation {
		t.Errorf("bad CIDR: %v", err)
	}
}

func TestCanViewBilling(t *testing.T) {
	for _, r := range Roles {
		want := r == RoleOrgOwner || r == RoleOrgBillingAdmin || r == RoleOrgBillingReadOnly
		if got := CanViewBilling([]Role{r}); got != want {
			t.Errorf("CanViewBilling(%s) = %v, want %v", r, got, want)
		}
	}
}
