// Package sdnotify owns what the daemon tells systemd through sd_notify
// (a service of Type=notify): READY=1 once the node is up, STATUS= with
// its pods' counts, WATCHDOG=1 while its sync machinery makes progress,
// and STOPPING=1 on the way out.
//
// Data enters through Notifier's methods and two consumer interfaces: the
// daemon hands it each manifest snapshot's desired pods (SetDesired) and
// each pod's first start attempt (FirstSync, podworker.Config.OnFirstSync);
// Run pulls the published pods (the status store) for STATUS= and the
// time of the last relist (podworker.Manager.LastRelist) for the
// watchdog. Data leaves as datagrams on $NOTIFY_SOCKET; without it
// nothing is sent, and no STATUS= is counted. The daemon makes the Notifier only once the runtime
// answered and the pause image is present, so READY=1 implies both.
package sdnotify
