package efotest

import (
	"encoding/json"
	"net/http"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/kinesistest"
)

// writeError answers an error of errType with the status AWS gives it.
func writeError(w http.ResponseWriter, errType, message string) {
	kinesistest.WriteError(w, errorStatus(errType), errType, message)
}

// errorStatus is the HTTP status AWS gives an error type: the server's own failures are
// 5xx, which the SDK retries; the caller's are 400.
func errorStatus(errType string) int {
	switch errType {
	case "InternalFailure", "InternalFailureException", "InternalServerError":
		return http.StatusInternalServerError
	case "ServiceUnavailable", "ServiceUnavailableException":
		return http.StatusServiceUnavailable
	case "MissingAuthenticationTokenException", "AccessDeniedException":
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// injectedMessage is the message an injected failure carries, in AWS's wording where
// the type is one AWS gives.
func injectedMessage(errType string) string {
	switch errType {
	case "ResourceInUseException":
		return "Another active subscription exists for this consumer."
	case "LimitExceededException":
		return "Rate exceeded for consumer."
	case "InternalFailure", "InternalFailureException":
		return "We encountered an internal error. Please try again."
	}
	return errType + " (injected by efotest)"
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}
