package costexplorer

import (
	"fmt"
	"slices"
	"time"
)

// InvoiceStatus is the statusName of an invoice: the phase of payment
// processing it is in on a given date.
type InvoiceStatus string

// The invoice statuses of the Atlas Invoices API.
const (
	InvoicePending  InvoiceStatus = "PENDING"
	InvoiceClosed   InvoiceStatus = "CLOSED"
	InvoiceForgiven InvoiceStatus = "FORGIVEN"
	InvoiceFailed   InvoiceStatus = "FAILED"
	InvoicePaid     InvoiceStatus = "PAID"
	InvoiceFree     InvoiceStatus = "FREE"
	InvoicePrepaid  InvoiceStatus = "PREPAID"
	InvoiceInvoiced InvoiceStatus = "INVOICED"
)

// InvoiceStatuses lists the statuses in the order of the specification.
var InvoiceStatuses = []InvoiceStatus{
	InvoicePending, InvoiceClosed, InvoiceForgiven, InvoiceFailed,
	InvoicePaid, InvoiceFree, InvoicePrepaid, InvoiceInvoiced,
}

// ParseInvoiceStatus returns the status named s; the match is exact (Atlas
// enums are case-sensitive).
func ParseInvoiceStatus(s string) (InvoiceStatus, bool) {
	st := InvoiceStatus(s)
	return st, slices.Contains(InvoiceStatuses, st)
}

// PaymentStatus is the statusName of a payment.
type PaymentStatus string

// The payment statuses of the Atlas Invoices API.
const (
	PaymentNew                  PaymentStatus = "NEW"
	PaymentForgiven             PaymentStatus = "FORGIVEN"
	PaymentFailed               PaymentStatus = "FAILED"
	PaymentPaid                 PaymentStatus = "PAID"
	PaymentPartialPaid          PaymentStatus = "PARTIAL_PAID"
	PaymentCancelled            PaymentStatus = "CANCELLED"
	PaymentInvoiced             PaymentStatus = "INVOICED"
	PaymentFailedAuthentication PaymentStatus = "FAILED_AUTHENTICATION"
	PaymentProcessing           PaymentStatus = "PROCESSING"
	PaymentPendingReversal      PaymentStatus = "PENDING_REVERSAL"
	PaymentRefunded             PaymentStatus = "REFUNDED"
)

// PaymentStatuses lists the payment statuses in the order of the specification.
var PaymentStatuses = []PaymentStatus{
	PaymentNew, PaymentForgiven, PaymentFailed, PaymentPaid, PaymentPartialPaid,
	PaymentCancelled, PaymentInvoiced, PaymentFailedAuthentication, PaymentProcessing,
	PaymentPendingReversal, PaymentRefunded,
}

// Payment is one payment toward an invoice (the Atlas BillingPayment).
// AmountPaid counts toward the invoice only when Status is PAID or
// PARTIAL_PAID (see [Payment.Counts]). UnitPrice is the decimal string Atlas
// shows ("1.00" for US dollars).
type Payment struct {
	ID           string
	Created      time.Time
	Updated      time.Time
	Status       PaymentStatus
	Currency     string
	UnitPrice    string
	Subtotal     Cents
	SalesTax     Cents
	AmountBilled Cents
	AmountPaid   Cents
}

// Counts reports whether the payment has moved money toward its invoice.
func (p *Payment) Counts() bool {
	return p.Status == PaymentPaid || p.Status == PaymentPartialPaid
}

// Refund is money returned to the organization for one payment of an
// invoice (the Atlas BillingRefund).
type Refund struct {
	PaymentID string
	Amount    Cents
	Created   time.Time
	Reason    string
}

// InvoiceAmounts are the sums an invoice keeps in step with its line items,
// so that reading an invoice never re-adds its items: Charges is the sum of
// the positive items and Credits minus the sum of the negative ones (a
// positive number). A store adds each new item with [InvoiceAmounts.Add] in
// the transaction that stores it.
type InvoiceAmounts struct {
	Charges Cents
	Credits Cents
}

// Add counts one line item's amount.
func (a *InvoiceAmounts) Add(amount Cents) {
	if amount > 0 {
		a.Charges += amount
	} else {
		a.Credits -= amount
	}
}

// Sub removes one line item's amount (an item restated or deleted).
func (a *InvoiceAmounts) Sub(amount Cents) {
	if amount > 0 {
		a.Charges -= amount
	} else {
		a.Credits += amount
	}
}

// Net is the sum of the items: Charges - Credits.
func (a InvoiceAmounts) Net() Cents { return a.Charges - a.Credits }

// InvoiceIssueDelay is how long after its month ends an invoice is issued
// (CLOSED becomes INVOICED) when its source does not say: the third day of
// the next month, 00:00Z. Atlas publishes no such date; the demo and the
// status rules use this one.
const InvoiceIssueDelay = 2 * 24 * time.Hour

// Invoice is one organization's invoice for one month (DESIGN §5.1). Its
// period runs from the first of Month 00:00Z to the first of the next month.
//
// Amounts hold the sums of the line items; SalesTax and StartingBalance are
// 0 unless imported or synced. RecordedStatus is a status an import or a
// sync recorded (the only way to FAILED, FORGIVEN or PREPAID, or any status
// Atlas reported); when empty the status is derived (see [Invoice.StatusAt]).
// Issued is when the invoice was issued; the zero time means the month's end
// plus [InvoiceIssueDelay]. Linked holds the invoices of the same month of
// the organizations linked to a paying organization; it is filled for
// reading, never stored with the invoice.
type Invoice struct {
	ID              string
	OrgID           string
	Month           Month
	Created         time.Time
	Updated         time.Time
	Amounts         InvoiceAmounts
	SalesTax        Cents
	StartingBalance Cents
	RecordedStatus  InvoiceStatus
	Issued          time.Time
	Payments        []Payment
	Refunds         []Refund
	Linked          []*Invoice
}

// NewInvoice returns the invoice of orgID for month m with its derived id
// ([InvoiceID]) and no amounts; created is when its first charge arrived.
func NewInvoice(orgID string, m Month, created time.Time) *Invoice {
	return &Invoice{ID: InvoiceID(orgID, m), OrgID: orgID, Month: m, Created: created.UTC(), Updated: created.UTC()}
}

// StartDate is the first instant of the billing period, 00:00Z.
func (inv *Invoice) StartDate() time.Time { return inv.Month.Start() }

// EndDate is the first instant after the billing period.
func (inv *Invoice) EndDate() time.Time { return (inv.Month + 1).Start() }

// Subtotal is subtotalCents: the sum of the positive line items.
func (inv *Invoice) Subtotal() Cents { return inv.Amounts.Charges }

// CreditsApplied is creditsCents: the credits applied to this invoice, a
// positive number. Credits beyond the subtotal are not applied (Atlas
// carries them to later invoices), so an invoice never bills a negative
// amount; the sum of the line items is Subtotal - CreditsApplied unless the
// credits exceed the charges.
func (inv *Invoice) CreditsApplied() Cents { return min(inv.Amounts.Credits, inv.Amounts.Charges) }

// AmountBilled is amountBilledCents: subtotal - credits + sales tax.
func (inv *Invoice) AmountBilled() Cents {
	return inv.Subtotal() - inv.CreditsApplied() + inv.SalesTax
}

// AmountPaid is amountPaidCents on date at: the sum of the payments made by
// then that moved money (PAID, PARTIAL_PAID). Refunds are listed apart and
// do not reduce it.
func (inv *Invoice) AmountPaid(at time.Time) Cents {
	var paid Cents
	for i := range inv.Payments {
		if p := &inv.Payments[i]; p.Counts() && !p.Created.After(at) {
			paid += p.AmountPaid
		}
	}
	return paid
}

// IssueDate is when the invoice is (or was) issued.
func (inv *Invoice) IssueDate() time.Time {
	if !inv.Issued.IsZero() {
		return inv.Issued
	}
	return inv.EndDate().Add(InvoiceIssueDelay)
}

// StatusAt returns the invoice's status on date at, by the lifecycle of
// DESIGN §5.1:
//
//   - a recorded status (import, sync) is the status, whatever the date;
//   - until its period ends the invoice is PENDING (it grows day by day);
//   - after that, an invoice billing nothing is FREE;
//   - one whose counted payments made by then cover the amount billed is PAID;
//   - one issued by then is INVOICED;
//   - otherwise it is CLOSED.
//
// FAILED, FORGIVEN and PREPAID are never derived.
func (inv *Invoice) StatusAt(at time.Time) InvoiceStatus {
	switch billed := inv.AmountBilled(); {
	case inv.RecordedStatus != "":
		return inv.RecordedStatus
	case at.Before(inv.EndDate()):
		return InvoicePending
	case billed <= 0:
		return InvoiceFree
	case inv.AmountPaid(at) >= billed:
		return InvoicePaid
	case !at.Before(inv.IssueDate()):
		return InvoiceInvoiced
	default:
		return InvoiceClosed
	}
}

// Validate checks what a store relies on; errors are ErrValidation.
func (inv *Invoice) Validate() error {
	bad := func(format string, args ...any) error {
		return Errorf(ErrValidation, "invoice %s: "+format, append([]any{inv.ID}, args...)...)
	}
	switch {
	case !IsID(inv.ID):
		return Errorf(ErrValidation, "invoice id %q must be 24 lower-case hexadecimal characters", inv.ID)
	case !IsID(inv.OrgID):
		return bad("invalid organization id %q", inv.OrgID)
	case inv.Month < MakeMonth(1970, 1) || inv.Month > MakeMonth(9998, 12):
		return bad("month %s out of range", inv.Month)
	case inv.Amounts.Charges < 0 || inv.Amounts.Credits < 0:
		return bad("charges and credits are sums of positive and negative items: neither can be negative")
	case inv.SalesTax < 0:
		return bad("sales tax cannot be negative")
	}
	if inv.RecordedStatus != "" {
		if _, ok := ParseInvoiceStatus(string(inv.RecordedStatus)); !ok {
			return bad("unknown status %q", inv.RecordedStatus)
		}
	}
	for i := range inv.Payments {
		p := &inv.Payments[i]
		if !IsID(p.ID) {
			return bad("payment %d: invalid id %q", i, p.ID)
		}
		if !slices.Contains(PaymentStatuses, p.Status) {
			return bad("payment %s: unknown status %q", p.ID, p.Status)
		}
	}
	for i := range inv.Refunds {
		r := &inv.Refunds[i]
		if !slices.ContainsFunc(inv.Payments, func(p Payment) bool { return p.ID == r.PaymentID }) {
			return bad("refund %d: payment %q is not a payment of this invoice", i, r.PaymentID)
		}
		if r.Amount <= 0 {
			return bad("refund %d: amount must be positive", i)
		}
	}
	return nil
}

// String names the invoice for logs and errors.
func (inv *Invoice) String() string {
	return fmt.Sprintf("invoice %s (organization %s, %s)", inv.ID, inv.OrgID, inv.Month)
}
