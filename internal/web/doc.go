// Package web serves the Cost Explorer web page: a sign-in form, the explorer
// (filters, a stacked monthly column chart with, when the window ends with
// the current month, the forecast of the total dashed with its 80 % band,
// the "Usage By Month" table),
// downloads of exactly what is shown, and the Invoices view (the list, one
// invoice by service and by project with its line items page by page, its
// linked invoices and its CSV, byte for byte the API's), which each month of
// the explorer links to, and the "By day & tag" page (usage.go): the
// project's own usage queries by day or month, by a tag and a second
// dimension, with filter expressions and a month-to-date card, evaluated
// synchronously by the same costexplorer.UsageEvaluator as the API's
// usage:query.
//
// The page is a client of the same services as the API. It authenticates
// with the same credentials (auth.Authenticator's CheckAPIKey and
// CheckServiceAccount, and its Resume on every request of a session),
// authorizes with costexplorer.AuthorizeOrg, validates queries with
// costexplorer.ParseQueryRequest from a JSON body it builds from the URL, and runs them as query processes of the same costexplorer.UsageService.
// A token seen on the page is therefore the token the API gives for the same
// query, and a download is byte for byte the API's answer for that token.
//
// Sessions keep no per-replica state: the session is a cookie signed with
// HMAC-SHA256 under a key shared through the store (Store.Secret), carrying
// the principal, an expiry and a random session id. Sign-out records the id
// as revoked in the store, and every request checks the revocation and that
// the credential still exists, is enabled and may be used from the client's
// address. State-changing forms carry a CSRF token derived from the session
// id (or, for the sign-in form, from a short-lived sign-in cookie), and POSTs
// from another origin are refused (http.CrossOriginProtection).
//
// Everything the page needs is embedded: html/template templates, one CSS
// file and one small script. The page reads fully without JavaScript (the
// processing state refreshes itself with a meta refresh); the script only adds
// filter boxes to long lists and polls instead of refreshing.
package web
