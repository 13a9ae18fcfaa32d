package costexplorer

import "testing"

func TestSKUCatalogueServicesAreValid(t *testing.T) {
	for _, s := range SKUs() {
		if _, ok := ParseService(string(s.Service)); !ok {
			t.Errorf("SKU %s maps to unknown service %q", s.ID, s.Service)
		}
		if s.Unit == "" {
			t.Errorf("SKU %s has no unit", s.ID)
		}
	}
}

func TestLookupSKUByNameParts(t *testing.T) {
	for id, want := range map[string]Service{
		"ATLAS_AWS_INSTANCE_M10":            ServiceClusters,
		"ATLAS_AWS_INSTANCE_M700":           ServiceClusters,
		"ATLAS_GCP_SNAPSHOT_EXPORT_NEW":     ServiceBackup,
		"ATLAS_AZURE_SERVERLESS_STORAGE_X":  ServiceServerless,
		"ATLAS_DATA_LAKE_AWS_DATA_SCANNED":  ServiceDataFederation,
		"ATLAS_SUPPORT_PLATINUM":            ServiceSupport,
		"ATLAS_AWS_DATA_TRANSFER_GLOBAL":    ServiceDataTransfer,
		"SOMETHING_CREDIT_ADJUSTMENT":       ServiceCredits,
		"ATLAS_STREAM_PROCESSING_VPC_PEER":  ServiceStreamProcessing,
		"ATLAS_AWS_BI_CONNECTOR_HIGH_MEM_X": ServiceBIConnector,
	} {
		got, err := LookupSKU(id)
		if err != nil || got.Service != want {
			t.Errorf("LookupSKU(%s) = %v, %v; want %s", id, got.Service, err, want)
		}
	}
	if _, err := LookupSKU("MYSTERY_THING"); err == nil {
		t.Error("a SKU that matches nothing must be an error naming it")
	}
}
