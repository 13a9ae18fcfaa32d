package importer

import (
	"crypto/sha256"
	"strconv"

	"github.com/costexplorer/costexplorer"
)

// ItemID returns the id the importer derives for the row that
// costexplorer.InvoiceCSVWriter writes for li (its cluster named cluster):
// the hash of the row's identity columns in their canonical forms (see
// parser.identity) and k, its occurrence among identical rows of its file
// (1 for the first). A source of line items that takes these ids (the demo)
// serves invoice CSVs whose rows keep their order through an import: the
// store orders the rows of one project, cluster and day by id.
func ItemID(li *costexplorer.LineItem, cluster string, k int) costexplorer.LineItemID {
	var buf [256]byte
	b := append(buf[:0], "invoice-csv\x00"...)
	for _, c := range identityColumns {
		switch c {
		case colDate:
			if li.BillDate != 0 {
				b = append(b, li.BillDate.String()...)
			}
		case colUsageDate:
			b = append(b, li.Date.String()...)
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
			b = append(b, costexplorer.FormatPercent(li.DiscountPercent)...)
		case colAmount:
			b = strconv.AppendInt(b, int64(li.Amount), 10)
		default:
			panic("importer: identity column without a field") // identityColumns and this switch list the same columns
		}
		b = append(b, 0)
	}
	b = strconv.AppendInt(b, int64(k), 10)
	sum := sha256.Sum256(append(b, 0))
	return costexplorer.LineItemID(sum[:16])
}
