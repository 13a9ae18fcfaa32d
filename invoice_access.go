package costexplorer

// CanViewLinkedInvoices reports whether p may see the invoices of the
// organizations linked to its own (linkedInvoices, and a linked
// organization's invoice by its id). Atlas grants it to the Organization
// Owner and Billing Admin roles only; a Billing Viewer sees its own
// organization's invoices without them.
func CanViewLinkedInvoices(p *Principal) bool {
	for _, r := range p.Roles {
		if r == RoleOrgOwner || r == RoleOrgBillingAdmin {
			return true
		}
	}
	return false
}
