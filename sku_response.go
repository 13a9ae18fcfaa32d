package costexplorer

// SKUResponse is one SKU as the Atlas SKU operations answer it (SkuResponse).
type SKUResponse struct {
	Description string `json:"description"`
	ID          string `json:"id"`
}

// Paginated is an Atlas paginated list (Paginated…View): the page's links,
// its results, the total count when asked for, and the status field an
// envelope=true answer adds.
type Paginated[T any] struct {
	Links      []Link `json:"links"`
	Results    []T    `json:"results"`
	TotalCount *int   `json:"totalCount,omitempty"`
	Status     *int   `json:"status,omitempty"`
}

// SKUList is the answer of listSkus (PaginatedApiSKUView).
type SKUList = Paginated[SKUResponse]

// Response returns the SKU as the SKU operations show it.
func (s SKU) Response() SKUResponse { return SKUResponse{Description: s.Description, ID: s.ID} }

// ListSKUs returns one page of the SKU catalogue in id order, and the size of
// the catalogue. A page past the end is empty.
func ListSKUs(p PageRequest) (page []SKUResponse, total int) {
	all := SKUs()
	page = []SKUResponse{}
	off := p.Offset()
	for i := off; i < len(all) && i < off+p.ItemsPerPage; i++ {
		page = append(page, all[i].Response())
	}
	return page, len(all)
}

// GetSKU returns the catalogue's SKU id. Only catalogue entries are SKUs
// here: an id that the importer would map by the parts of its name is still
// ErrNotFound, since nothing describes it.
func GetSKU(id string) (SKUResponse, error) {
	s, ok := skuCatalogue[id]
	if !ok {
		return SKUResponse{}, Errorf(ErrNotFound, "No SKU with id %q exists.", id)
	}
	return s.Response(), nil
}
