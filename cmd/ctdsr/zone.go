package main

import (
	"context"
	"errors"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/checkpoint"
)

// resolveZone decides the account timezone of the run: --timezone when
// given, else the one the ledger remembers, else UTC. A --timezone other
// than the remembered one must be borne out by the data (settleZone).
func (j *job) resolveZone(ctx context.Context) error {
	remembered, ok, err := j.store.Setting(ctx, checkpoint.SettingTimezone)
	if err != nil || !ok {
		return err
	}
	j.zoneRemembered = remembered
	if !j.cfg.ZoneGiven {
		loc, err := time.LoadLocation(remembered)
		if err != nil {
			return err // a zone this build cannot load: say so
		}
		j.cfg.Batch.Location = loc
		j.log.Info("account timezone as the ledger remembers it", "timezone", remembered)
		return nil
	}
	if given := j.cfg.Batch.Location.String(); given != remembered {
		j.zoneChanged = remembered
		j.log.Warn("--timezone differs from the zone the ledger remembers; the exported data must agree",
			"timezone", given, "remembered", remembered)
	}
	return nil
}

// settleZone remembers the zone once the run did not contradict it (given
// by flag, or confirmed by the data), and turns a contradiction of a
// changed --timezone into a usage error.
func (j *job) settleZone(runErr error) error {
	var ze *batch.ZoneError
	if errors.As(runErr, &ze) {
		if j.zoneChanged != "" {
			return &UsageError{Err: runErr, Hint: "the ledger remembers --timezone " + j.zoneChanged +
				"; pass that, or a zone the exported data agrees with"}
		}
		return runErr
	}
	ev := j.sum.Zone
	if ev.Other > 0 && ev.Agreeing == 0 {
		return runErr
	}
	if zone := j.cfg.Batch.Location.String(); zone != j.zoneRemembered && (j.cfg.ZoneGiven || ev.Agreeing > 0) {
		if err := j.store.SetSetting(j.bg, j.runID, checkpoint.SettingTimezone, zone); err != nil {
			return joinOneLine(runErr, err)
		}
	}
	return runErr
}
