package worker

import (
	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
)

// KeyConnectorClass is Kafka Connect's connector.class.
const KeyConnectorClass = config.KeyConnectorClass

// Common is what the worker reads of a connector config; see config.Common.
type Common = config.Common

// ParseCommon parses the keys every connector shares.
func ParseCommon(name string, cfg map[string]string) (Common, []connectors.FieldError) {
	var errs []connectors.FieldError
	if err := config.ValidateName(name); err != nil {
		errs = append(errs, connectors.FieldError{Key: "name", Message: err.Error()})
	}
	c, more := (&config.Connector{Name: name, Config: cfg}).Common()
	return c, append(errs, more...)
}
