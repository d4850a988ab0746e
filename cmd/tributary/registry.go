package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/tributary-io/tributary/schemas/registry"
)

func newRegistryCmd() *cobra.Command {
	var brokers []string
	var addr, topic string
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Run the built-in Schema Registry alone",
		Long: `Serve the Confluent-compatible Schema Registry API, with its state in a
compacted Kafka topic, until interrupted.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			log := newLogger(os.Stderr, slog.LevelInfo, "text")
			stop, url, err := startRegistry(cmd.Context(), log, brokers, addr, topic)
			if err != nil {
				return err
			}
			defer stop()
			fmt.Fprintln(cmd.OutOrStdout(), "schema registry serving at", url)
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&brokers, "bootstrap-servers", []string{"127.0.0.1:9092"}, "Kafka brokers")
	cmd.Flags().StringVar(&addr, "listener", "127.0.0.1:8081", "address to serve on")
	cmd.Flags().StringVar(&topic, "topic", registry.DefaultTopic, "compacted topic holding the schemas")
	return cmd
}

// startRegistry starts the built-in registry on addr over the brokers.
func startRegistry(ctx context.Context, log *slog.Logger, brokers []string, addr, topic string) (stop func(), url string, err error) {
	if addr == "" {
		return nil, "", fmt.Errorf("no schema registry: set schema.registry.url, or registry.listener for the built-in one")
	}
	srv, err := registry.Start(ctx, registry.ServerConfig{
		Brokers: brokers, Addr: addr, Topic: topic, Logger: log,
	})
	if err != nil {
		return nil, "", fmt.Errorf("start schema registry: %w", err)
	}
	log.Info("schema registry serving", "url", srv.URL(), "topic", topic)
	return func() { _ = srv.Close() }, srv.URL(), nil
}
