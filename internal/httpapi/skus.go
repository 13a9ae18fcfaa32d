package httpapi

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/costexplorer/costexplorer"
)

// listSkus serves GET /api/atlas/v2/skus (version 2025-03-12): one page of
// the SKU catalogue in id order (itemsPerPage, pageNum, includeCount), as
// PaginatedApiSKUView. The catalogue is the same for every organization, so
// any authenticated caller may read it (Atlas asks for no billing role); it
// takes a token of the caller's organization's Invoices bucket.
func (s *Server) listSkus(c *call) (reply, error) {
	page, err := costexplorer.ParsePageRequest(c.r.URL.Query())
	if err != nil {
		return nil, err
	}
	results, total := costexplorer.ListSKUs(page)
	list := costexplorer.SKUList{
		Links:   pageLinks(c.r, page, page.Offset()+len(results) < total),
		Results: results,
	}
	if page.IncludeCount {
		list.TotalCount = &total
	}
	return listBody{http.StatusOK, &list, func(st int) { list.Status = &st }}, nil
}

// getSku serves GET /api/atlas/v2/skus/{skuId} (version 2025-03-12): one
// entry of the catalogue, matched exactly (case-sensitive); any other id is
// 404 RESOURCE_NOT_FOUND. The route only lets ids of the catalogue's form
// through (skuParam).
func (s *Server) getSku(c *call) (reply, error) {
	id := c.r.PathValue("skuId")
	sku, err := costexplorer.GetSKU(id)
	if err != nil {
		return nil, err
	}
	return entity{http.StatusOK, sku}, nil
}

// maxSKULen bounds a SKU id; the catalogue's longest is under 50 characters.
const maxSKULen = 128

// skuParam is the {skuId} of getSku: letters, digits and underscores, 1 to
// 128 of them (the form of every SKU on an Atlas invoice). Anything else is
// 400 INVALID_PATH_PARAMETER, so that an id is never echoed unbounded in a
// 404's detail.
var skuParam = pathParam{name: "skuId", valid: isSKUID, why: "a SKU id is 1 to 128 letters, digits and underscores."}

func isSKUID(s string) bool {
	if s == "" || len(s) > maxSKULen {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b >= 'A' && b <= 'Z', b >= 'a' && b <= 'z', b >= '0' && b <= '9', b == '_':
		default:
			return false
		}
	}
	return true
}

// pageLinks returns the links of one page of a paginated list: previous
// (after the first page), self, and next when more follows. Each keeps the
// request's query parameters and sets pageNum and itemsPerPage.
func pageLinks(r *http.Request, p costexplorer.PageRequest, more bool) []costexplorer.Link {
	q := r.URL.Query()
	link := func(n int, rel string) costexplorer.Link {
		v := url.Values{}
		for k, vals := range q {
			v[k] = vals
		}
		v.Set("pageNum", strconv.Itoa(n))
		v.Set("itemsPerPage", strconv.Itoa(p.ItemsPerPage))
		return costexplorer.Link{Href: baseURL(r) + r.URL.Path + "?" + v.Encode(), Rel: rel}
	}
	var links []costexplorer.Link
	if p.PageNum > 1 {
		links = append(links, link(p.PageNum-1, "previous"))
	}
	links = append(links, link(p.PageNum, "self"))
	if more {
		links = append(links, link(p.PageNum+1, "next"))
	}
	return links
}
