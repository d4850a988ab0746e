package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/store"
	"github.com/tributary-io/tributary/runtime/worker"
)

func newPlanCmd() *cobra.Command {
	v := viper.New()
	var storePath string
	cmd := &cobra.Command{
		Use:   "plan [DIR]",
		Short: "Show what applying a pipelines directory would change",
		Long: `Compare connector files with the connectors a worker keeps in its config
store, and print what applying the files would create, update and delete.
The worker config comes from --config, TRIBUTARY_* environment variables and
flags, as for tributary worker, and names the store the same way: the topic
config.storage.topic of a distributed worker, read without changing it, or
else the file config.storage.file.filename. The files are those of DIR, or
else connectors.dir and connectors.files, checked as the worker checks
them: a file the worker would refuse fails the plan, with its file and
line. Connectors created through the REST API are never deleted by a
directory; a distributed worker keeps no files, so its plan shows what
tributary connectors apply would change.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := config.BindFlags(v, cmd.Flags()); err != nil {
				return err
			}
			if storePath != "" {
				v.Set("config.storage.file.filename", storePath)
			}
			wc, err := config.LoadWorker(v)
			if err != nil {
				return err
			}
			p := worker.Pipelines{Dir: wc.ConnectorsDir, Files: wc.ConnectorFiles}
			if len(args) == 1 {
				p = worker.Pipelines{Dir: args[0]}
			}
			changes, err := plan(cmd.Context(), wc, p)
			if err != nil {
				return err
			}
			printPlan(cmd.OutOrStdout(), changes)
			return nil
		},
	}
	config.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&storePath, "config-store", "", "the worker's config.storage.file.filename")
	_ = cmd.Flags().MarkDeprecated("config-store", "use --config-storage-file-filename")
	return cmd
}

// plan compares the connectors of p with those of the config store wc
// names.
func plan(ctx context.Context, wc *config.Worker, p worker.Pipelines) ([]store.Change, error) {
	if p.Dir == "" && len(p.Files) == 0 {
		return nil, errors.New("plan: no connector files; give DIR or set connectors.dir")
	}
	// The files are checked as the worker checks them, its plugins and
	// config providers included, so that a plan never shows a change the
	// worker would refuse.
	providers, err := workerProviders(wc)
	if err != nil {
		return nil, err
	}
	w := worker.New(worker.Options{Plugins: sinkPlugins(), Providers: providers,
		ConverterDefaults: wc.ConverterDefaults})
	desired, err := w.LoadPipelines(p)
	if err != nil {
		return nil, err
	}
	if !wc.Distributed() {
		st, err := store.ReadFile(wc.ConfigStorePath())
		if err != nil {
			return nil, err
		}
		current, err := st.Connectors(ctx)
		if err != nil {
			return nil, err
		}
		return store.Diff(desired, current, p.Owns), nil
	}

	current, err := readConfigTopic(ctx, wc)
	if err != nil {
		return nil, err
	}
	// Connectors reach a distributed worker through its REST API, which
	// records no owner file: compare configs alone, and delete nothing.
	files := make(map[string]string, len(desired))
	for i := range desired {
		files[desired[i].Name], desired[i].Owner = desired[i].Owner, ""
	}
	changes := store.Diff(desired, current, p.Owns)
	for i := range changes {
		changes[i].Owner = files[changes[i].Name]
	}
	return changes, nil
}

// readConfigTopic returns the connectors of a distributed worker's config
// topic, or none when the topic does not exist yet: a plan creates nothing.
func readConfigTopic(ctx context.Context, wc *config.Worker) ([]store.Connector, error) {
	ctx, cancel := context.WithTimeout(ctx, kafkaReachTimeout)
	defer cancel()
	brokers := kgo.SeedBrokers(wc.BootstrapServers...)
	cl, err := kgo.NewClient(brokers)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	details, err := kadm.NewClient(cl).ListTopics(ctx, wc.ConfigStorageTopic)
	if err != nil {
		return nil, fmt.Errorf("reach Kafka at %s (bootstrap.servers): %w",
			strings.Join(wc.BootstrapServers, ","), err)
	}
	if !details.Has(wc.ConfigStorageTopic) {
		return nil, nil
	}
	st, err := store.OpenKafka(ctx, wc.ConfigStorageTopic, int16(wc.ConfigStorageReplication),
		slog.New(slog.DiscardHandler), brokers)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.Connectors(ctx)
}

func printPlan(w io.Writer, changes []store.Change) {
	if len(changes) == 0 {
		fmt.Fprintln(w, "no changes")
		return
	}
	sign := map[string]string{store.ActionCreate: "+", store.ActionUpdate: "~",
		store.ActionDelete: "-"}
	for _, ch := range changes {
		line := fmt.Sprintf("%s %s %s (%s)", sign[ch.Action], ch.Action, ch.Name, ch.Owner)
		if len(ch.Keys) > 0 {
			line += ": " + strings.Join(ch.Keys, ", ")
		}
		if ch.From != "" {
			line += "; owner was " + ch.From
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "%d change(s)\n", len(changes))
}
