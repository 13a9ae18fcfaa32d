package costexplorer

import (
	"fmt"
	"sort"
	"strings"
)

// SKU is one entry of the SKU catalogue: the identifier that appears on an
// invoice, the cost-explorer service it is billed under, and its unit.
type SKU struct {
	ID          string  `json:"id"`
	Service     Service `json:"service"`
	Unit        string  `json:"unit"`
	Description string  `json:"description"`
}

// skuCatalogue lists the SKUs the demo generator emits and that are commonly
// seen on Atlas invoices. SKUs missing here are mapped by [LookupSKU] through
// the well-known parts of their names.
var skuCatalogue = func() map[string]SKU {
	m := map[string]SKU{}
	add := func(id string, svc Service, unit, desc string) { m[id] = SKU{id, svc, unit, desc} }
	for _, p := range []struct{ code, name string }{{"AWS", "AWS"}, {"GCP", "GCP"}, {"AZURE", "Azure"}} {
		for _, tier := range []string{"M10", "M20", "M30", "M40", "M50", "M60", "M80", "M140", "M200", "M300", "R40", "R50", "R60", "R80"} {
			add("ATLAS_"+p.code+"_INSTANCE_"+tier, ServiceClusters, "server hours", "Atlas "+p.name+" Cluster "+tier)
		}
		add("ATLAS_"+p.code+"_STORAGE_PROVISIONED", ServiceStorage, "GB months", "Atlas "+p.name+" Storage Provisioned")
		add("ATLAS_"+p.code+"_STORAGE_STANDARD", ServiceStorage, "GB months", "Atlas "+p.name+" Storage Standard")
		add("ATLAS_"+p.code+"_STORAGE_IOPS", ServiceStorage, "IOPS months", "Atlas "+p.name+" Provisioned IOPS")
		add("ATLAS_"+p.code+"_DATA_TRANSFER_SAME_REGION", ServiceDataTransfer, "GB", "Atlas "+p.name+" Data Transfer (Same Region)")
		add("ATLAS_"+p.code+"_DATA_TRANSFER_DIFFERENT_REGION", ServiceDataTransfer, "GB", "Atlas "+p.name+" Data Transfer (Different Region)")
		add("ATLAS_"+p.code+"_DATA_TRANSFER_INTERNET", ServiceDataTransfer, "GB", "Atlas "+p.name+" Data Transfer (Internet)")
		add("ATLAS_"+p.code+"_BACKUP_SNAPSHOT_STORAGE", ServiceBackup, "GB days", "Atlas "+p.name+" Backup Snapshot Storage")
		add("ATLAS_"+p.code+"_BACKUP_DOWNLOAD_VM", ServiceBackup, "server hours", "Atlas "+p.name+" Backup Download VM")
		add("ATLAS_"+p.code+"_PIT_RESTORE_STORAGE", ServiceBackup, "GB days", "Atlas "+p.name+" Continuous Cloud Backup Storage")
		add("ATLAS_"+p.code+"_SERVERLESS_RPU", ServiceServerless, "million RPUs", "Atlas "+p.name+" Serverless Read Processing Units")
		add("ATLAS_"+p.code+"_SERVERLESS_WPU", ServiceServerless, "million WPUs", "Atlas "+p.name+" Serverless Write Processing Units")
		add("ATLAS_"+p.code+"_SERVERLESS_STORAGE", ServiceServerless, "GB days", "Atlas "+p.name+" Serverless Storage")
		add("ATLAS_"+p.code+"_FLEX_INSTANCE", ServiceClusters, "days", "Atlas "+p.name+" Flex Cluster")
		add("ATLAS_"+p.code+"_BI_CONNECTOR", ServiceBIConnector, "server hours", "Atlas "+p.name+" BI Connector")
		add("ATLAS_"+p.code+"_DATA_FEDERATION_DATA_SCANNED", ServiceDataFederation, "TB", "Atlas Data Federation "+p.name+" Data Scanned")
		add("ATLAS_"+p.code+"_DATA_FEDERATION_DATA_RETURNED", ServiceDataFederation, "GB", "Atlas Data Federation "+p.name+" Data Returned")
		add("ATLAS_"+p.code+"_STREAM_PROCESSING_INSTANCE_SP10", ServiceStreamProcessing, "hours", "Atlas Stream Processing "+p.name+" SP10")
		add("ATLAS_"+p.code+"_STREAM_PROCESSING_INSTANCE_SP30", ServiceStreamProcessing, "hours", "Atlas Stream Processing "+p.name+" SP30")
		add("ATLAS_"+p.code+"_STREAM_PROCESSING_DATA_TRANSFER", ServiceStreamProcessing, "GB", "Atlas Stream Processing "+p.name+" Data Transfer")
	}
	add("ATLAS_ADVANCED_SECURITY", ServicePremiumFeatures, "months", "Atlas Advanced Security")
	add("ATLAS_ENTERPRISE_AUDITING", ServicePremiumFeatures, "months", "Atlas Enterprise Auditing")
	add("REALM_APP_REQUESTS", ServiceAppServices, "requests", "App Services Requests")
	add("REALM_APP_COMPUTE", ServiceAppServices, "runtime hours", "App Services Compute")
	add("REALM_APP_SYNC", ServiceAppServices, "runtime minutes", "App Services Sync")
	add("REALM_APP_DATA_TRANSFER", ServiceAppServices, "GB", "App Services Data Transfer")
	add("CHARTS_DATA_DOWNLOADED", ServiceCharts, "GB", "Charts Data Downloaded")
	add("ATLAS_CHARTS", ServiceCharts, "months", "Atlas Charts")
	add("MMS_STANDARD", ServiceCloudManagerStdPremium, "server hours", "Cloud Manager Standard")
	add("MMS_PREMIUM", ServiceCloudManagerStdPremium, "server hours", "Cloud Manager Premium")
	add("CLASSIC_BACKUP_STORAGE", ServiceLegacyBackup, "GB months", "Legacy Backup Storage")
	add("ATLAS_AI_MODEL_API_TOKENS", ServiceAIModelAPIs, "million tokens", "AI Model API Tokens")
	add("ATLAS_AUTOMATED_EMBEDDING_TOKENS", ServiceAutomatedEmbedding, "million tokens", "Automated Embedding Tokens")
	add("ATLAS_NATIVE_RERANKING_TOKENS", ServiceNativeReranking, "million tokens", "Native Reranking Tokens")
	add("ATLAS_FLEX_CONSULTING", ServiceFlexConsulting, "hours", "Flex Consulting")
	add("ATLAS_SUPPORT_DEVELOPER", ServiceSupport, "months", "Atlas Developer Support")
	add("ATLAS_SUPPORT_PRO", ServiceSupport, "months", "Atlas Pro Support")
	add("ATLAS_SUPPORT_ENTERPRISE", ServiceSupport, "months", "Atlas Enterprise Support")
	add("CREDIT", ServiceCredits, "credits", "Credit")
	add("ATLAS_PROMOTIONAL_CREDIT", ServiceCredits, "credits", "Promotional Credit")
	return m
}()

// skuNameRules map well-known parts of SKU names to services, tried in order
// for SKUs the catalogue lacks (DESIGN §2). More specific parts come first:
// "SERVERLESS_STORAGE" is Serverless Instances, not Storage.
var skuNameRules = []struct {
	part    string
	service Service
	unit    string
}{
	{"CREDIT", ServiceCredits, "credits"},
	{"SUPPORT", ServiceSupport, "months"},
	{"SERVERLESS", ServiceServerless, "units"},
	{"STREAM_PROCESSING", ServiceStreamProcessing, "hours"},
	{"DATA_FEDERATION", ServiceDataFederation, "TB"},
	{"DATA_LAKE", ServiceDataFederation, "TB"},
	{"BI_CONNECTOR", ServiceBIConnector, "server hours"},
	{"BACKUP", ServiceBackup, "GB days"},
	{"SNAPSHOT", ServiceBackup, "GB days"},
	{"DATA_TRANSFER", ServiceDataTransfer, "GB"},
	{"INSTANCE", ServiceClusters, "server hours"},
	{"STORAGE", ServiceStorage, "GB months"},
	{"REALM", ServiceAppServices, "units"},
	{"CHARTS", ServiceCharts, "units"},
}

// LookupSKU returns the catalogue entry for id, or one derived from the
// well-known parts of its name. A SKU that matches nothing is an error naming it.
func LookupSKU(id string) (SKU, error) {
	if s, ok := skuCatalogue[id]; ok {
		return s, nil
	}
	upper := strings.ToUpper(id)
	for _, r := range skuNameRules {
		if strings.Contains(upper, r.part) {
			return SKU{ID: id, Service: r.service, Unit: r.unit, Description: id}, nil
		}
	}
	return SKU{}, fmt.Errorf("unknown SKU %q: not in the catalogue and no known service in its name", id)
}

// SKUs returns the catalogue, sorted by id.
func SKUs() []SKU {
	out := make([]SKU, 0, len(skuCatalogue))
	for _, s := range skuCatalogue {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
