package loader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/schemas"
)

// Registry is the part of a Schema Registry client the loader needs.
type Registry interface {
	// Register registers schemaText under subject, or finds it there, and
	// returns it with its id. Load calls it once, before producing; an error
	// ends the load.
	Register(ctx context.Context, subject, schemaText string) (*schemas.Schema, error)
}

// Key names the field of a booking action that becomes its record's key.
type Key string

const (
	// KeyHotel keys each record by its hotel, so that each hotel's bookings
	// keep their order on one partition. The dataset has two hotels, and
	// both hash to partition 1 of a topic of two or four partitions.
	KeyHotel Key = "hotel"
	// KeyActionID keys each record by its action's id, unique per booking
	// and the same at every load: the records spread evenly over the
	// partitions, and no two are ordered.
	KeyActionID Key = "action_id"
)

// Config says where and how Load produces the bookings.
type Config struct {
	// Brokers are the seed brokers, host:port.
	Brokers []string
	// Topic receives the bookings. Load creates it if it is missing.
	Topic string
	// Partitions is the partition count of a topic Load creates; 0 takes
	// the broker's default.
	Partitions int32
	// ReplicationFactor is the replication factor of a topic Load creates;
	// 0 means 1.
	ReplicationFactor int16
	// Registry registers the Booking schema; required.
	Registry Registry
	// Key is the field the records are keyed by; "" means KeyHotel.
	Key Key
	// Repeat produces the dataset this many times, for load tests; 0 means
	// once. Each copy has its own action ids and otherwise equal fields.
	Repeat int
	// Limit stops the load after this many rows have been read, over all
	// copies; 0 means no limit.
	Limit int
	// Progress receives a progress bar when it is a terminal, and one
	// summary line at the end otherwise; nil for neither.
	Progress io.Writer
	// Logger receives bad rows, one warning each with its line, and the
	// start and end of the load; nil discards them.
	Logger *slog.Logger
	// ClientOptions are added after the loader's own franz-go options, for
	// TLS, SASL or tuning; a later option overrides an earlier one.
	ClientOptions []kgo.Opt
}

// Validate reports every problem of c at once, each naming its field.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("brokers: at least one broker is required"))
	}
	if c.Topic == "" {
		errs = append(errs, errors.New("topic: required"))
	}
	if c.Partitions < 0 {
		errs = append(errs, errors.New("partitions: must not be negative"))
	}
	if c.ReplicationFactor < 0 {
		errs = append(errs, errors.New("replication factor: must not be negative"))
	}
	if c.Registry == nil {
		errs = append(errs, errors.New("registry: required"))
	}
	switch c.Key {
	case "", KeyHotel, KeyActionID:
	default:
		errs = append(errs, fmt.Errorf("key: %q is not a key field; use %q or %q",
			c.Key, KeyHotel, KeyActionID))
	}
	if c.Repeat < 0 {
		errs = append(errs, errors.New("repeat: must not be negative"))
	}
	if c.Limit < 0 {
		errs = append(errs, errors.New("limit: must not be negative"))
	}
	return errors.Join(errs...)
}
