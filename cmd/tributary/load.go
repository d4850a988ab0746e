package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tributary-io/tributary/internal/bookings"
	"github.com/tributary-io/tributary/internal/loader"
	"github.com/tributary-io/tributary/schemas/registry"
)

func newLoadCmd() *cobra.Command {
	load := &cobra.Command{
		Use:   "load",
		Short: "Produce a bundled dataset to Kafka as Avro actions",
	}
	var (
		brokers     []string
		registryURL []string
		topic       string
		partitions  int32
		repeat      int
		limit       int
		csvPath     string
		key         string
		verbose     bool
	)
	cmd := &cobra.Command{
		Use:   "bookings",
		Short: "Produce the hotel booking dataset as booking actions",
		Long: `Read the hotel booking CSV (the bundled copy unless --file is given), turn
each row into a booking action, register the Booking schema under
<topic>-value, and produce the actions in the Confluent wire format with an
idempotent producer, keyed by hotel. Both hotels hash to one partition of a
topic of 2 or 4 partitions: --key action_id spreads the records over every
partition instead. A bad row is reported with its line number and the
command exits non-zero once the rest is loaded.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			level := slog.LevelWarn
			if verbose {
				level = slog.LevelInfo
			}
			log := newLogger(cmd.ErrOrStderr(), level, "text")
			client, err := registry.NewClient(registryURL)
			if err != nil {
				return err
			}
			src, err := bookings.Open()
			if csvPath != "" {
				src, err = os.Open(csvPath)
			}
			if err != nil {
				return err
			}
			defer src.Close()
			res, err := loader.Load(cmd.Context(), loader.Config{
				Brokers: brokers, Topic: topic, Partitions: partitions, Registry: client,
				Key: loader.Key(key), Repeat: repeat, Limit: limit, Progress: progressWriter(), Logger: log,
			}, src)
			// Rejected rows leave the rest loaded, so the summary still holds.
			if err == nil || errors.Is(err, loader.ErrRejected) {
				fmt.Fprintf(cmd.OutOrStdout(), "produced %d bookings to %s (schema id %d, "+
					"%d rejected) in %v: %.0f records/s\n",
					res.Produced, topic, res.SchemaID, res.Rejected,
					res.Elapsed.Round(time.Millisecond),
					float64(res.Produced)/max(res.Elapsed.Seconds(), 1e-9))
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&brokers, "bootstrap-servers", []string{"127.0.0.1:9092"}, "Kafka brokers")
	f.StringSliceVar(&registryURL, "schema-registry-url", []string{"http://127.0.0.1:8081"}, "Schema Registry URLs")
	f.StringVar(&topic, "topic", "bookings", "topic to produce to (created if missing)")
	f.Int32Var(&partitions, "partitions", 4, "partitions of the topic when it is created")
	f.IntVar(&repeat, "repeat", 1, "produce the dataset this many times, with distinct action ids")
	f.IntVar(&limit, "limit", 0, "stop after this many rows (0: all)")
	f.StringVar(&key, "key", string(loader.KeyHotel), "record key: hotel or action_id")
	f.StringVar(&csvPath, "file", "", "read this CSV instead of the bundled dataset")
	f.BoolVarP(&verbose, "verbose", "v", false, "log the load's steps, not only warnings")
	load.AddCommand(cmd)
	return load
}

// progressWriter is where the loader shows its progress bar: standard
// error when that is a terminal, nowhere otherwise, since the commands print
// their own summary when the load is done.
func progressWriter() io.Writer {
	if term.IsTerminal(int(os.Stderr.Fd())) {
		return os.Stderr
	}
	return nil
}
