package costexplorer

// Service is a cost-explorer service name, as in the `services` filter and the
// `service` field of a result row.
type Service string

// The cost-explorer service names, in the order of the Atlas specification.
const (
	ServiceAtlas                  Service = "Atlas"
	ServiceClusters               Service = "Clusters"
	ServiceStorage                Service = "Storage"
	ServiceServerless             Service = "Serverless Instances"
	ServiceBackup                 Service = "Backup"
	ServiceDataTransfer           Service = "Data Transfer"
	ServiceBIConnector            Service = "BI Connector"
	ServiceDSCCompute             Service = "DSC Compute"
	ServiceDSCStorage             Service = "DSC Storage"
	ServicePremiumFeatures        Service = "Premium Features"
	ServiceDataFederation         Service = "Atlas Data Federation"
	ServiceStreamProcessing       Service = "Atlas Stream Processing"
	ServiceAppServices            Service = "App Services"
	ServiceCharts                 Service = "Charts"
	ServiceCloudManager           Service = "Cloud Manager"
	ServiceCloudManagerStdPremium Service = "Cloud Manager Standard/Premium"
	ServiceLegacyBackup           Service = "Legacy Backup"
	ServiceAIModelAPIs            Service = "AI Model APIs"
	ServiceAutomatedEmbedding     Service = "Automated Embedding"
	ServiceNativeReranking        Service = "Native Reranking"
	ServiceFlexConsulting         Service = "Flex Consulting"
	ServiceSupport                Service = "Support"
	ServiceCredits                Service = "Credits"
	serviceAIModelsAlias          Service = "AI Models"
	serviceAIModelsAliasCanonical         = ServiceAIModelAPIs
)

// Services lists the 23 cost-explorer service names in specification order.
var Services = []Service{
	ServiceAtlas, ServiceClusters, ServiceStorage, ServiceServerless, ServiceBackup,
	ServiceDataTransfer, ServiceBIConnector, ServiceDSCCompute, ServiceDSCStorage,
	ServicePremiumFeatures, ServiceDataFederation, ServiceStreamProcessing,
	ServiceAppServices, ServiceCharts, ServiceCloudManager, ServiceCloudManagerStdPremium,
	ServiceLegacyBackup, ServiceAIModelAPIs, ServiceAutomatedEmbedding,
	ServiceNativeReranking, ServiceFlexConsulting, ServiceSupport, ServiceCredits,
}

// ParseService returns the canonical service for name: one of [Services], or
// the older name "AI Models", which means "AI Model APIs". The match is exact
// (Atlas enums are case-sensitive).
func ParseService(name string) (Service, bool) {
	s := Service(name)
	if s == serviceAIModelsAlias {
		return serviceAIModelsAliasCanonical, true
	}
	for _, v := range Services {
		if v == s {
			return v, true
		}
	}
	return "", false
}
