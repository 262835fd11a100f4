package topics

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Action is what Apply did or found for one topic.
type Action string

const (
	// ActionCreated means the topic did not exist and was created.
	ActionCreated Action = "created"
	// ActionUnchanged means the topic exists with the catalog's settings.
	ActionUnchanged Action = "unchanged"
	// ActionDrift means the topic exists with other settings; Drift says which.
	ActionDrift Action = "drift"
	// ActionFixed means configs that had drifted were set back to the catalog's.
	ActionFixed Action = "fixed"
	// ActionFailed means the topic could not be created or checked; Err says why.
	ActionFailed Action = "failed"
)

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Replication is the replication factor of created topics; -1 takes the broker's default.
	Replication int16
	// FixConfigs sets drifted topic configs (retention, cleanup policy) back to the catalog's.
	// Partition counts are never changed: adding partitions moves keys between partitions.
	FixConfigs bool
}

// ApplyResult is the outcome of Apply for one topic.
type ApplyResult struct {
	// Topic is the topic's name.
	Topic string
	// Action is what was done or found.
	Action Action
	// Drift lists each setting that differs from the catalog, as "setting: have X, catalog wants Y".
	Drift []string
	// Err is set when Action is ActionFailed.
	Err error
}

// Apply creates every missing topic of ts and checks the settings of those that exist. It is
// idempotent: a second run reports every topic unchanged. The error is non-nil if any topic failed.
func Apply(ctx context.Context, adm *kadm.Client, ts []Topic, opts ApplyOptions) ([]ApplyResult, error) {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	details, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("list %d topics: %w", len(names), err)
	}
	results := make([]ApplyResult, 0, len(ts))
	var existing []Topic
	for _, t := range ts {
		d, ok := details[t.Name]
		if ok && d.Err == nil {
			existing = append(existing, t)
			continue
		}
		if ok && d.Err != nil && !errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
			results = append(results, ApplyResult{Topic: t.Name, Action: ActionFailed, Err: fmt.Errorf("describe topic %s: %w", t.Name, d.Err)})
			continue
		}
		results = append(results, create(ctx, adm, t, opts))
	}
	results = append(results, check(ctx, adm, existing, details, opts)...)
	order := make(map[string]int, len(ts))
	for i, t := range ts {
		order[t.Name] = i
	}
	slices.SortFunc(results, func(a, b ApplyResult) int { return order[a.Topic] - order[b.Topic] })
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return results, errors.Join(errs...)
}

func create(ctx context.Context, adm *kadm.Client, t Topic, opts ApplyOptions) ApplyResult {
	configs := map[string]*string{}
	for k, v := range t.Configs() {
		configs[k] = &v
	}
	resp, err := adm.CreateTopic(ctx, t.Partitions, opts.Replication, configs, t.Name)
	if err == nil {
		err = resp.Err
	}
	if errors.Is(err, kerr.TopicAlreadyExists) {
		// Created by someone else between our list and our create: fine.
		return ApplyResult{Topic: t.Name, Action: ActionUnchanged}
	}
	if err != nil {
		return ApplyResult{Topic: t.Name, Action: ActionFailed,
			Err: fmt.Errorf("create topic %s (%d partitions, replication %d): %w", t.Name, t.Partitions, opts.Replication, err)}
	}
	return ApplyResult{Topic: t.Name, Action: ActionCreated}
}

func check(ctx context.Context, adm *kadm.Client, ts []Topic, details kadm.TopicDetails, opts ApplyOptions) []ApplyResult {
	if len(ts) == 0 {
		return nil
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	results := make([]ApplyResult, 0, len(ts))
	rcs, err := adm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		for _, t := range ts {
			results = append(results, ApplyResult{Topic: t.Name, Action: ActionFailed, Err: fmt.Errorf("describe configs of %s: %w", t.Name, err)})
		}
		return results
	}
	for _, t := range ts {
		res := ApplyResult{Topic: t.Name, Action: ActionUnchanged}
		if have := int32(len(details[t.Name].Partitions)); have != t.Partitions {
			res.Drift = append(res.Drift, fmt.Sprintf("partitions: have %d, catalog wants %d (not changed: it would move keys)", have, t.Partitions))
		}
		rc, err := rcs.On(t.Name, nil)
		if err != nil || rc.Err != nil {
			res.Action, res.Err = ActionFailed, fmt.Errorf("describe configs of %s: %w", t.Name, errors.Join(err, rc.Err))
			results = append(results, res)
			continue
		}
		var alter []kadm.AlterConfig
		want := t.Configs()
		for _, k := range sortedKeys(want) {
			have := configValue(rc, k)
			if have != want[k] {
				res.Drift = append(res.Drift, fmt.Sprintf("%s: have %s, catalog wants %s", k, have, want[k]))
				v := want[k]
				alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v})
			}
		}
		if len(res.Drift) > 0 {
			res.Action = ActionDrift
		}
		if opts.FixConfigs && len(alter) > 0 {
			resp, err := adm.AlterTopicConfigs(ctx, alter, t.Name)
			if err == nil {
				_, err = resp.On(t.Name, nil)
				if err == nil {
					for _, r := range resp {
						err = errors.Join(err, r.Err)
					}
				}
			}
			if err != nil {
				res.Action, res.Err = ActionFailed, fmt.Errorf("alter configs of %s: %w", t.Name, err)
			} else if int32(len(details[t.Name].Partitions)) == t.Partitions {
				res.Action = ActionFixed
			}
		}
		results = append(results, res)
	}
	return results
}

func configValue(rc kadm.ResourceConfig, key string) string {
	for _, c := range rc.Configs {
		if c.Key == key {
			if c.Value == nil {
				return "(unset)"
			}
			return *c.Value
		}
	}
	return "(unset)"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
