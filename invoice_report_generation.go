package costexplorer

// reportGenerationFields are the members of ReportGenerationRequest, the
// body of the preview generateOrgInvoiceAndDownloadReport.
var reportGenerationFields = []string{"reportFormat", "reportType", "version"}

// ParseReportGenerationRequest reads a ReportGenerationRequest body (the
// preview that generates a report and answers its file at once). Its
// schema requires no member: reportType and reportFormat default to FOCUS
// and CSV, and version, the FOCUS specification version, to
// LatestReportSpecVersion; a given member is checked as
// ParseInvoiceReportRequest checks it (version as formatSpecVersion is
// there). The body itself is required: an empty one is malformed JSON, {}
// asks for the defaults.
func ParseReportGenerationRequest(body []byte) (*InvoiceReportRequest, error) {
	return parseReportRequest(body, reportGenerationFields, "version", false)
}
