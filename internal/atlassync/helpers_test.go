package atlassync_test

import (
	"net/http"

	"github.com/costexplorer/costexplorer/internal/atlassync"
)

func httpClient(counter *atlassync.RequestCounter) *http.Client {
	if counter == nil {
		return &http.Client{}
	}
	return &http.Client{Transport: counter}
}
