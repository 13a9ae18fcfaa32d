package importer

import (
	"crypto/sha256"
	"strconv"

	"github.com/costexplorer/costexplorer"
)

// ItemID returns the id the importer derives for the row that
// costexplorer.InvoiceCSVWriter writes for li (its cluster named cluster):
// the hash of the row's identity columns in their canonical forms (see
// appendIdentity) and k, its occurrence among identical rows of its file
// (1 for the first). A source of line items that takes these ids (the demo)
// serves invoice CSVs whose rows keep their order through an import: the
// store orders the rows of one project, cluster and day by id.
func ItemID(li *costexplorer.LineItem, cluster string, k int) costexplorer.LineItemID {
	var buf [256]byte
	return idOf(appendIdentity(buf[:0], li, cluster), k)
}

// idOf returns the id of the k-th row of identity id (appendIdentity): the
// first half of the SHA-256 of the identity, k and a NUL. The identity is
// kept as it was (id has room for k when it can).
func idOf(id []byte, k int) costexplorer.LineItemID {
	b := strconv.AppendInt(id, int64(k), 10)
	sum := sha256.Sum256(append(b, 0))
	return costexplorer.LineItemID(sum[:16])
}

// appendIdentity appends the identity of the row of li (its cluster named
// cluster): its identity columns, each followed by a NUL, in canonical form
// where a value has one (so that "$1,000" and "1000.00" are one amount, an
// empty Unit is the SKU's unit and "10" is "10%"). Canonical forms make the
// CSV costexplorer writes for an invoice import back as the same items.
func appendIdentity(b []byte, li *costexplorer.LineItem, cluster string) []byte {
	b = append(b, "invoice-csv\x00"...)
	for _, c := range identityColumns {
		switch c {
		case colDate:
			if li.BillDate != 0 {
				b = appendDay(b, li.BillDate)
			}
		case colUsageDate:
			b = appendDay(b, li.Date)
		case colDescription:
			b = append(b, li.Description...)
		case colNote:
			b = append(b, li.Note...)
		case colOrgID:
			b = append(b, li.OrgID...)
		case colProjectID:
			b = append(b, li.ProjectID...)
		case colSKU:
			b = append(b, li.SKU...)
		case colRegion:
			b = append(b, li.Region...)
		case colCluster:
			b = append(b, cluster...)
		case colReplicaSet:
			b = append(b, li.ReplicaSet...)
		case colConfigServer:
			b = append(b, li.ConfigServer...)
		case colApplication:
			b = append(b, li.Application...)
		case colUnit:
			b = append(b, li.Unit...)
		case colUnitPrice:
			b = strconv.AppendInt(b, li.UnitPriceNanos, 10)
		case colQuantity:
			b = strconv.AppendFloat(b, li.Quantity, 'g', -1, 64)
		case colDiscount:
			if li.DiscountPercent != 0 {
				b = append(strconv.AppendFloat(b, li.DiscountPercent, 'f', -1, 64), '%')
			}
		case colAmount:
			b = strconv.AppendInt(b, int64(li.Amount), 10)
		default:
			panic("importer: identity column without a field") // identityColumns and this switch list the same columns
		}
		b = append(b, 0)
	}
	return b
}

// appendDay appends d as YYYY-MM-DD (Day.String without formatting a
// time).
func appendDay(b []byte, d costexplorer.Day) []byte {
	y, m, dd := d.Time().Date()
	if y < 1000 || y > 9999 {
		return append(b, d.String()...)
	}
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+dd/10), byte('0'+dd%10))
}
