package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/connectors/file"
	"github.com/tributary-io/tributary/connectors/s3"
	"github.com/tributary-io/tributary/connectors/storage"
	"github.com/tributary-io/tributary/internal/verify"
	"github.com/tributary-io/tributary/runtime/config"
)

func newVerifyCmd() *cobra.Command {
	var brokers []string
	var topics []string
	var dlq string
	cmd := &cobra.Command{
		Use:   "verify --bootstrap-servers HOST:PORT CONNECTOR_FILE",
		Short: "Check that a sink holds every record of its topics exactly once",
		Long: `Compare a storage sink's output with its source topics. The connector file
names the topics, the store and the layout. For each partition, verify
reports the offsets missing from the sink, the offsets found more than once,
and rows the topic does not have. It exits non-zero on any of them. With
--dlq, a record the dead letter queue holds (placed by its __connect.errors.*
headers) is counted as dead-lettered, not missing; one both in the sink and
in the queue is duplicated.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := config.LoadConnector(args[0])
			if err != nil {
				return err
			}
			cfg, err := config.Resolve(c.Config, os.LookupEnv)
			if err != nil {
				return err
			}
			if len(topics) == 0 {
				topics = splitList(cfg["topics"])
			}
			if own := strings.TrimSpace(cfg["errors.deadletterqueue.topic.name"]); dlq != "" &&
				own != dlq {
				return fmt.Errorf("connector %s: its dead letter queue is %q, not %q", c.Name,
					own, dlq)
			}
			ok := true
			for _, topic := range topics {
				rep, err := verifyTopic(cmd.Context(),
					verify.Source{Brokers: brokers, Topic: topic, DeadLetters: dlq}, cfg)
				if err != nil {
					return err
				}
				verify.Print(cmd.OutOrStdout(), rep)
				ok = ok && rep.OK()
			}
			if !ok {
				return errReported
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&brokers, "bootstrap-servers", []string{"127.0.0.1:9092"},
		"Kafka brokers")
	cmd.Flags().StringSliceVar(&topics, "topic", nil, "topics to check (default: the connector's topics)")
	cmd.Flags().StringVar(&dlq, "dlq", "", "the connector's dead letter queue topic, whose "+
		"records count as dead-lettered rather than missing")
	return cmd
}

// verifyTopic opens the connector's store and compares it with topic.
func verifyTopic(ctx context.Context, src verify.Source, cfg map[string]string) (*verify.Report, error) {
	sc, errs := storage.ParseConfig(cfg)
	if len(errs) > 0 {
		return nil, &connectors.ConfigError{Source: "connector", Errors: errs}
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return verify.Run(ctx, src, verify.Sink{Store: store, TopicsDir: sc.TopicsDir, Format: sc.Format})
}

func openStore(ctx context.Context, cfg map[string]string) (storage.Store, error) {
	switch class := config.CanonicalClass(cfg[config.KeyConnectorClass]); class {
	case "s3":
		return s3.OpenStore(ctx, cfg)
	case "file":
		return file.OpenStore(ctx, cfg)
	default:
		return nil, fmt.Errorf("verify reads storage sinks (s3, file), not %q", class)
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
