#!/usr/bin/env bash
# The ipsec-doctor lab: real Libreswan peers ("west" and "east") in network
# namespaces, one scenario per file in scenarios/, captured into the snapshot
# layout that `ipsec-doctor diagnose` reads.
#
#   lab.sh list                       scenario names and the kernel each needs
#   lab.sh capture OUT [NAME ...]     run scenarios (all by default) and write OUT/NAME/{west,east}
#   lab.sh run-one NAME OUTDIR        one scenario on the running kernel (used by capture and inside guests)
#   lab.sh expect NAME OUTDIR         (re)write OUTDIR/expect.json from the scenario's EXPECT_* lines
#   lab.sh engine                     which guest engine boots here, and why (guest.sh)
#   lab.sh scratch                    the shared scratch directory (captures go under it)
#
# Host-kernel scenarios (IKE only: the host has no ESP) run in parallel on the
# host; "guest" scenarios (real ESP, traffic, xfrm counters) run inside Linux
# guests that share the host filesystem (user-mode Linux, or QEMU with Debian's
# kernel where UML cannot boot: guest.sh), one guest per core, in parallel.
# OUT and the lab's logs must be on the shared filesystem but not under /tmp or
# /var/tmp, which are the guest's own under QEMU.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Shared scratch (captures, logs, guest status): the repository's .lab-work/, or, for a checkout under a
# directory QEMU guests do not share (/tmp, /var/tmp), a directory of its own under /var/lib.
lab_scratch() {
    local repo; repo=$(cd "$LAB_DIR/../.." && pwd -P)
    case "$repo/" in
        /tmp/*|/var/tmp/*|/dev/shm/*) echo "/var/lib/ipsec-doctor-lab/$(printf '%s' "$repo" | cksum | cut -d' ' -f1)" ;;
        *) echo "$repo/.lab-work" ;;
    esac
}
WORK_ROOT=${LAB_WORK:-$(lab_scratch)/work}
# shellcheck source=guest.sh
source "$LAB_DIR/guest.sh"
# Throwaway lab secrets. The no-secrets test greps every output for them.
LAB_PSK="lab-psk-0b5e7d1c9a2f48e6b3d7c5a1e9f20486-west-east"
LAB_PSK_WRONG="lab-psk-wrong-77f1c2d9e8a34b6c9d0e1f2a3b4c5d6e-east"

log() { printf '[lab %s] %s\n' "${SCENARIO:-}" "$*" >&2; }

scenario_kernel() { # NAME -> host|guest
    ( KERNEL=host; source "$LAB_DIR/scenarios/$1.sh"; echo "$KERNEL" )
}

list() {
    for f in "$LAB_DIR"/scenarios/*.sh; do
        n=$(basename "$f" .sh)
        printf '%-34s %s\n' "$n" "$(scenario_kernel "$n")"
    done
}

# ---------------------------------------------------------------- topology
# west 192.0.2.1/24 (vw) <-> east 192.0.2.2/24 (ve); west's private subnet
# 10.1.0.0/24 and east's 10.2.0.0/24 live on a dummy-less loopback address.
netns_up() {
    ip netns add "$W"; ip netns add "$E"
    ip link add "vw$ID" type veth peer name "ve$ID"
    ip link set "vw$ID" netns "$W" name vw
    ip link set "ve$ID" netns "$E" name ve
    ip -n "$W" link set lo up; ip -n "$E" link set lo up
    ip -n "$W" addr add 192.0.2.1/24 dev vw; ip -n "$W" link set vw up
    ip -n "$E" addr add 192.0.2.2/24 dev ve; ip -n "$E" link set ve up
    ip -n "$W" addr add 10.1.0.1/24 dev lo
    ip -n "$E" addr add 10.2.0.1/24 dev lo
    # The private subnets are reached through the peer; IPsec policies then catch the traffic.
    ip -n "$W" route add 10.2.0.0/16 via 192.0.2.2 src 10.1.0.1
    ip -n "$E" route add 10.1.0.0/16 via 192.0.2.1 src 10.2.0.1
    ip netns exec "$W" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$E" sysctl -qw net.ipv4.ip_forward=1
}

netns_down() {
    [ -n "${MONITOR_PID:-}" ] && kill "$MONITOR_PID" 2>/dev/null || true
    for side in west east; do pluto_stop "$side" || true; done
    ip netns del "$W" 2>/dev/null || true
    ip netns del "$E" 2>/dev/null || true
    for ns in ${EXTRA_NS:-}; do ip netns del "$ns" 2>/dev/null || true; done
}

side_ns() { [ "$1" = west ] && echo "$W" || echo "$E"; }
side_dir() { echo "$RUN/$1"; }
whack() { local side=$1; shift; ip netns exec "$(side_ns "$side")" ipsec whack --ctlsocket "$(side_dir "$side")/run/pluto.ctl" "$@"; }

# Writes DIR/ipsec.conf from the scenario's config_setup/west_conn/east_conn.
write_config() {
    local side=$1 d; d=$(side_dir "$side")
    mkdir -p "$d/run" "$d/nss"
    {
        echo "# ipsec.conf of $side, lab scenario $SCENARIO"
        echo "config setup"
        echo "    ikev1-policy=accept"
        config_setup "$side"
        echo
        "${side}_conn"
    } > "$d/ipsec.conf"
    "${side}_secrets" > "$d/ipsec.secrets"
    chmod 600 "$d/ipsec.secrets"
}

pluto_start() { # SIDE [aborts]: with "aborts", no NSS database is made, so pluto stops at start-up
    local side=$1 d; d=$(side_dir "$side")
    [ "${2:-}" = aborts ] || certutil -N -d "sql:$d/nss" --empty-password >/dev/null
    ip netns exec "$(side_ns "$side")" ipsec pluto --config "$d/ipsec.conf" --rundir "$d/run" \
        --nssdir "$d/nss" --secretsfile "$d/ipsec.secrets" --logfile "$d/pluto.log" --ipsecdir "$d"
    if [ "${2:-}" = aborts ]; then sleep 2; return 0; fi
    for _ in $(seq 100); do [ -S "$d/run/pluto.ctl" ] && break; sleep 0.1; done
    whack "$side" --listen >/dev/null
    ip netns exec "$(side_ns "$side")" ipsec addconn --ctlsocket "$d/run/pluto.ctl" \
        --config "$d/ipsec.conf" --autoall >/dev/null 2>&1 || true
}

pluto_stop() {
    local d pid; d=$(side_dir "$1")
    [ -f "$d/run/pluto.pid" ] || return 0
    pid=$(cat "$d/run/pluto.pid")
    kill "$pid" 2>/dev/null || true
    # Gone before anything starts a new one on the same directories (a restart right after the stop raced).
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$d/run/pluto.pid"
}

# Runs what `ipsec up CONN` runs and keeps what it printed.
initiate() { # CONN [SECONDS]
    local conn=$1 secs=${2:-40} rc=0
    { echo "# ipsec whack --name $conn --initiate"
      timeout "$secs" ip netns exec "$W" ipsec whack --ctlsocket "$(side_dir west)/run/pluto.ctl" \
          --name "$conn" --initiate 2>&1 || rc=$?
      echo "# exit status $rc"; } > "$RUN/west/ipsec-up.txt"
}

# East stops answering: a firewall drops IKE, NAT-T and ESP (guests: iptables-legacy, the same on every engine).
east_goes_silent() {
    ip netns exec "$E" iptables-legacy -A INPUT -p udp --dport 500 -j DROP
    ip netns exec "$E" iptables-legacy -A INPUT -p udp --dport 4500 -j DROP
    ip netns exec "$E" iptables-legacy -A INPUT -p esp -j DROP
}

# The user's own path-MTU test through the tunnel (DF set), as ping prints it.
ping_test() { # NS SRC DST SIZE...
    local ns=$1 src=$2 dst=$3; shift 3
    for size in "$@"; do
        echo "\$ ping -c 2 -W 2 -M do -s $size -I $src $dst"
        ip netns exec "$ns" ping -c 2 -W 2 -M do -s "$size" -I "$src" "$dst" 2>&1 || true
    done
}

# West's host 10.1.0.1 pings east's 10.2.0.1 through the tunnel with DF set; the result is ping.txt.
west_pings() { # SIZE...
    ping_test "$W" 10.1.0.1 10.2.0.1 "$@" > "$RUN/west/ping.txt"
}

xfrm_stat_sample() {
    echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    ip netns exec "$1" cat /proc/net/xfrm_stat
}

capture_side() {
    local side=$1 ns; ns=$(side_ns "$side")
    local d; d=$(side_dir "$side")
    local out="$OUT/$side"
    mkdir -p "$out"
    cp "$d/ipsec.conf" "$d/ipsec.secrets" "$out/"
    [ -f "$d/ipsec-up.txt" ] && cp "$d/ipsec-up.txt" "$out/"
    # Asked even when pluto is not running: whack then says so, and that is evidence too.
    whack "$side" --trafficstatus > "$out/ipsec-trafficstatus.txt" 2>&1 || true
    whack "$side" --status > "$out/ipsec-status.txt" 2>&1 || true
    ip netns exec "$ns" ip -s xfrm policy > "$out/ip-xfrm-policy.txt" 2>&1 || true
    ip netns exec "$ns" ip -s xfrm state > "$out/ip-xfrm-state.txt" 2>&1 || true
    ip netns exec "$ns" ip addr > "$out/ip-addr.txt" 2>&1 || true
    ip netns exec "$ns" ip route > "$out/ip-route.txt" 2>&1 || true
    ip netns exec "$ns" ip -d link > "$out/ip-link.txt" 2>&1 || true
    if [ "$KERNEL" = host ]; then
        ip netns exec "$ns" nft list ruleset > "$out/nft-ruleset.txt" 2>&1 || true
        if [ -s "$out/nft-ruleset.txt" ]; then ip netns exec "$ns" nft -j list ruleset > "$out/nft-ruleset.json" 2>&1 || true; fi
    else
        ip netns exec "$ns" iptables-legacy-save > "$out/iptables-save.txt" 2>&1 || true
    fi
    [ -f "$d/pluto.log" ] && cp "$d/pluto.log" "$out/pluto.log"
    [ -f "$d/ping.txt" ] && cp "$d/ping.txt" "$out/ping.txt"
    [ -f "$d/ip-xfrm-monitor.txt" ] && cp "$d/ip-xfrm-monitor.txt" "$out/ip-xfrm-monitor.txt"
    cat > "$out/meta.json" <<EOF
{"scenario": "$SCENARIO", "side": "$side", "libreswan": "$(ipsec --version 2>/dev/null | head -1)", "kernel": "$(uname -r)", "captured": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "capturedBy": "scripts/lab/lab.sh"}
EOF
}

# Live mode against the running daemons: the binary (IPSEC_DOCTOR_BIN) runs inside the namespace, as it
# would on the gateway, while the scenario's traffic runs during its xfrm_stat sampling window.
live_diagnose() { # SIDE
    [ -n "${IPSEC_DOCTOR_BIN:-}" ] && [ -x "$IPSEC_DOCTOR_BIN" ] || return 0
    local side=$1 d logs=()
    d=$(side_dir "$side")
    [ -f "$d/pluto.log" ] && logs=(--log "$d/pluto.log")
    timeout 300 ip netns exec "$(side_ns "$side")" "$IPSEC_DOCTOR_BIN" diagnose --format json --sample-seconds 4 --command-timeout 30 \
        --config "$d/ipsec.conf" --secrets "$d/ipsec.secrets" --ctlsocket "$d/run/pluto.ctl" "${logs[@]}" \
        > "$OUT/live-$side.json" 2> "$OUT/live-$side.stderr" &
    local pid=$!
    # Traffic for as long as the live run lasts, so its two samples always straddle some.
    if declare -F during_sampling >/dev/null; then
        while kill -0 "$pid" 2>/dev/null; do during_sampling; done
    fi
    wait "$pid" || true
}

# The closed loop, for scenarios with a configuration cause (FIX_LOOP=yes), once for each tool: the config
# changes `ipsec-doctor diagnose --peer` proposes (from the capture of the failing pair), then, from the
# original configs again, the ones `ipsec-doctor compare` proposes, each applied to the real configs
# (scripts/lab/apply-fix.py), both daemons restarted on them, every connection initiated again.
# fix-loop-diagnose.json and fix-loop.json record the tool's verdicts before, compare's after, and what the
# daemons did: the IKE SA established, the Child SA negotiated (established, or refused only by a kernel
# without ESP: the host's), and traffic through the tunnel where the kernel carries it.
fix_loop() {
    [ "${FIX_LOOP:-no}" = yes ] && [ -n "${IPSEC_DOCTOR_BIN:-}" ] && [ -x "$IPSEC_DOCTOR_BIN" ] || return 0
    local side
    for side in west east; do cp "$(side_dir "$side")/ipsec.conf" "$RUN/$side.conf.orig"; cp "$(side_dir "$side")/ipsec.secrets" "$RUN/$side.secrets.orig"; done
    fix_round diagnose fix-diagnose- fix-loop-diagnose.json
    for side in west east; do cp "$RUN/$side.conf.orig" "$(side_dir "$side")/ipsec.conf"; cp "$RUN/$side.secrets.orig" "$(side_dir "$side")/ipsec.secrets"; done
    fix_round compare fix- fix-loop.json
}

fix_round() { # TOOL PREFIX RESULT
    local tool=$1 p=$2 result=$3 applied=ok conns c side up="$OUT/${2}ipsec-up.txt"
    verdicts() { python3 -c 'import json,sys; print(" ".join(p["local"] + "=" + p["verdict"] for p in json.load(open(sys.argv[1]))["pairs"]))' "$1" 2>/dev/null || echo "unreadable"; }
    leads() { python3 -c 'import json,sys; print(" ".join((f.get("connection") or "-") + "=" + f["code"] for f in json.load(open(sys.argv[1]))["findings"] if f["severity"] != "info"))' "$1" 2>/dev/null || echo "unreadable"; }
    if [ "$tool" = diagnose ]; then
        # The capture's configs are copies of the running ones, line for line: the steps name the running files.
        "$IPSEC_DOCTOR_BIN" diagnose -f json "$OUT/west" --peer "$OUT/east" 2>/dev/null \
            | sed "s#$OUT/west/#$RUN/west/#g; s#$OUT/east/#$RUN/east/#g" > "$OUT/${p}before.json" || true
    else
        "$IPSEC_DOCTOR_BIN" compare -f json "$RUN/west" "$RUN/east" > "$OUT/${p}before.json" 2>/dev/null || true
    fi
    python3 "$LAB_DIR/apply-fix.py" "$OUT/${p}before.json" > "$OUT/${p}applied.txt" 2>&1 || applied=failed
    "$IPSEC_DOCTOR_BIN" compare -f json "$RUN/west" "$RUN/east" > "$OUT/${p}compare-after.json" 2>/dev/null || true
    for side in west east; do
        pluto_stop "$side"
        rm -rf "$(side_dir "$side")/nss" "$(side_dir "$side")/run"
        mkdir -p "$(side_dir "$side")/nss" "$(side_dir "$side")/run"
        : > "$(side_dir "$side")/pluto.log"
    done
    # The responder first: a fix that sets auto=start has west initiate the moment its pluto is up.
    pluto_start east; pluto_start west
    conns=$(python3 -c 'import json,sys; print(" ".join(p["local"] for p in json.load(open(sys.argv[1]))["pairs"]))' "$OUT/${p}compare-after.json" 2>/dev/null || echo "$CONN")
    : > "$up"
    for c in $conns; do
        timeout "$UP_SECONDS" ip netns exec "$W" ipsec whack --ctlsocket "$(side_dir west)/run/pluto.ctl" --name "$c" --initiate >> "$up" 2>&1 || true
    done
    # An initiate that found the tunnel already negotiating returns at once: wait for the Child SA's outcome
    # (established, or refused by a kernel without ESP) in either end's log.
    local n=0
    while [ "$n" -lt "$UP_SECONDS" ] && ! grep -qE "established Child SA|IPsec SA established|netlink response for Add SA" \
        "$(side_dir west)/pluto.log" "$(side_dir east)/pluto.log" 2>/dev/null; do sleep 1; n=$((n + 1)); done
    sleep 2
    whack west --trafficstatus > "$OUT/${p}trafficstatus.txt" 2>&1 || true
    cp "$(side_dir west)/pluto.log" "$OUT/${p}west-pluto.log" 2>/dev/null || true
    cp "$(side_dir east)/pluto.log" "$OUT/${p}east-pluto.log" 2>/dev/null || true
    local ike=false child=false nokernel=false traffic=false before
    # The initiate's answer, or west's log: a fix that sets auto=start has pluto bring the tunnel up itself.
    grep -qE "established IKE SA|IKE SA established|ISAKMP SA established" "$up" "$OUT/${p}west-pluto.log" && ike=true
    grep -qE "established Child SA|IPsec SA established" "$up" "$OUT/${p}west-pluto.log" && child=true
    # The host kernel has no ESP: the peer negotiated the Child SA and its kernel refused the install.
    grep -qE "netlink response for Add SA" "$OUT/${p}east-pluto.log" "$OUT/${p}west-pluto.log" 2>/dev/null && nokernel=true
    if [ "$child" = true ] && ip netns exec "$W" ping -c 2 -W 2 -I 10.1.0.1 10.2.0.1 >/dev/null 2>&1; then traffic=true; fi
    if [ "$tool" = diagnose ]; then before=$(leads "$OUT/${p}before.json"); else before=$(verdicts "$OUT/${p}before.json"); fi
    printf '{"tool": "%s", "applied": "%s", "before": "%s", "after": "%s", "ikeEstablished": %s, "childEstablished": %s, "childRefusedByKernelWithoutESP": %s, "trafficPasses": %s, "kernel": "%s"}\n' \
        "$tool" "$applied" "$before" "$(verdicts "$OUT/${p}compare-after.json")" "$ike" "$child" "$nokernel" "$traffic" "$KERNEL" > "$OUT/$result"
    log "fix loop ($tool): $(cat "$OUT/$result")"
}

capture_both() {
    # Two xfrm_stat samples a few seconds apart, so rising counters show.
    local tw te; tw=$(mktemp); te=$(mktemp)
    xfrm_stat_sample "$W" > "$tw"; xfrm_stat_sample "$E" > "$te"
    if declare -F during_sampling >/dev/null; then during_sampling; else sleep 3; fi
    xfrm_stat_sample "$W" >> "$tw"; xfrm_stat_sample "$E" >> "$te"
    capture_side west; capture_side east
    mv "$tw" "$OUT/west/xfrm_stat.txt"; mv "$te" "$OUT/east/xfrm_stat.txt"
    [ "$EAST_PLUTO" != no ] || rm -f "$OUT/east/pluto.log"
}

# ---------------------------------------------------------------- defaults
# A scenario file overrides what differs from a healthy IKEv2 PSK net-to-net.
defaults() {
    KERNEL=host; EAST_PLUTO=yes; CONN=westnet-eastnet; UP_SECONDS=40; IKE_VERSION=ikev2
    WEST_EXTRA=""; EAST_EXTRA=""; WEST_SUBNET=10.1.0.0/24; EAST_SUBNET=10.2.0.0/24
    WEST_SEES_EAST_SUBNET=""; EAST_SEES_WEST_SUBNET=""
    config_setup() { :; }
    network_extra() { :; }  # more addresses/routes, before pluto starts (it orients by local interfaces)
    conn_body() { # SIDE: left is always "this side"
        local me=$1 mine peer peerip myip mysub peersub extra
        if [ "$me" = west ]; then
            myip=192.0.2.1; peerip=192.0.2.2; mine=@west; peer=@east
            mysub=$WEST_SUBNET; peersub=${WEST_SEES_EAST_SUBNET:-$EAST_SUBNET}; extra=$WEST_EXTRA
        else
            myip=192.0.2.2; peerip=192.0.2.1; mine=@east; peer=@west
            mysub=$EAST_SUBNET; peersub=${EAST_SEES_WEST_SUBNET:-$WEST_SUBNET}; extra=$EAST_EXTRA
        fi
        cat <<EOF
conn $CONN
    left=$myip
    leftid=$mine
    leftsubnet=$mysub
    right=$peerip
    rightid=$peer
    rightsubnet=$peersub
    authby=secret
    ikev2=$([ "$IKE_VERSION" = ikev1 ] && echo no || echo insist)
    auto=add
    retransmit-timeout=10s
EOF
        # Guests install SAs slowly (an exec costs ~50 ms in UML, more under TCG): without this the initiator
        # logs spurious IKE_AUTH retransmissions even when all is well (lab-notes.md).
        [ "$KERNEL" = guest ] && echo "    retransmit-interval=10000"
        [ -n "$extra" ] && printf '%b\n' "$extra"
        return 0
    }
    west_conn() { conn_body west; }
    east_conn() { conn_body east; }
    west_secrets() { echo "@west @east : PSK \"$LAB_PSK\""; }
    east_secrets() { echo "@east @west : PSK \"$LAB_PSK\""; }
    before_up() { :; }
    after_up() { sleep 2; }
}

# Deletes west's SA SRC -> DST behind pluto's back (`ip xfrm state delete`), as a script or another daemon would.
delete_west_sa() { # SRC DST
    local spi
    spi=$(ip netns exec "$W" ip xfrm state | awk -v h="^src $1 dst $2" '$0 ~ h {getline; print $4; exit}')
    ip netns exec "$W" ip xfrm state delete src "$1" dst "$2" proto esp spi "$spi"
}

# West's 10.1.0.0/24 and 10.1.1.0/24 as leftsubnets= on both ends: one Child SA (reqid) per subnet pair.
two_west_subnets() {
    west_conn() { conn_body west | sed 's|leftsubnet=10.1.0.0/24|leftsubnets={10.1.0.0/24,10.1.1.0/24}|'; }
    east_conn() { conn_body east | sed 's|rightsubnet=10.1.0.0/24|rightsubnets={10.1.0.0/24,10.1.1.0/24}|'; }
    before_up() { ip -n "$W" addr add 10.1.1.1/24 dev lo; }
}

# expect.json: what `ipsec-doctor diagnose` must answer for this capture (the end-to-end tests read it).
write_expect() { # NAME OUT
    local name=$1 out=$2
    EXPECT_WEST=""; EXPECT_PEER=""; EXPECT_EAST=""; EXPECT_LIVE=""
    defaults
    # shellcheck disable=SC1090
    source "$LAB_DIR/scenarios/$name.sh"
    case_json() { # ARGS-JSON SPEC
        local args=$1 spec=$2 code cites exit=1
        [ -n "$spec" ] || return 0
        code=${spec%%|*}; cites=${spec#*|}
        if [ "$spec" = none ]; then code=""; cites=""; exit=0; fi
        printf '    {"args": %s, "firstCode": "%s", "cites": "%s", "exit": %s}' "$args" "$code" "$cites" "$exit"
    }
    {
        echo '{'
        echo "  \"scenario\": \"$name\","
        echo "  \"kernel\": \"$KERNEL\","
        echo '  "cases": ['
        local parts=()
        [ -n "$EXPECT_WEST" ] && parts+=("$(case_json '["west"]' "$EXPECT_WEST")")
        [ -n "$EXPECT_PEER" ] && parts+=("$(case_json '["west", "--peer", "east"]' "$EXPECT_PEER")")
        [ -n "$EXPECT_EAST" ] && parts+=("$(case_json '["east"]' "$EXPECT_EAST")")
        local IFS=$'\n'
        printf '%s\n' "${parts[@]}" | sed '$!s/$/,/'
        echo '  ],'
        # Live mode on west (live-west.json): same lead code unless the scenario says otherwise.
        local live=${EXPECT_LIVE:-$EXPECT_WEST} lcode lexit=1
        lcode=${live%%|*}
        if [ "$live" = none ]; then lcode=""; lexit=0; fi
        printf '  "live": {"firstCode": "%s", "exit": %s}\n' "$lcode" "$lexit"
        echo '}'
    } > "$out/expect.json"
}

run_one() {
    SCENARIO=$1; OUT=$2
    defaults
    # shellcheck disable=SC1090
    source "$LAB_DIR/scenarios/$SCENARIO.sh"
    ID=$(printf '%s' "$SCENARIO" | cksum | cut -c1-6)
    W="lw$ID"; E="le$ID"
    RUN="$WORK_ROOT/$SCENARIO"; rm -rf "$RUN" "$OUT"; mkdir -p "$RUN" "$OUT"
    trap netns_down EXIT
    netns_up
    network_extra
    write_config west; write_config east
    # `ip xfrm monitor` on west from the start: which SPI/reqid each SA got (the field report's trail).
    if [ "${MONITOR:-no}" = yes ]; then
        ip netns exec "$W" ip xfrm monitor > "$RUN/west/ip-xfrm-monitor.txt" 2>&1 &
        MONITOR_PID=$!
    fi
    pluto_start west
    case "$EAST_PLUTO" in yes) pluto_start east ;; aborts) pluto_start east aborts ;; esac
    before_up
    initiate "$CONN" "$UP_SECONDS"
    after_up
    [ -n "${MONITOR_PID:-}" ] && { kill "$MONITOR_PID" 2>/dev/null || true; MONITOR_PID=""; }
    capture_both
    live_diagnose west
    fix_loop
    write_expect "$SCENARIO" "$OUT"
    log "captured into $OUT"
}

# ---------------------------------------------------------------- guests
# guest_run OUT NAME...: the guest scenarios, split over one guest per core (GUESTS), each guest running
# its share in turn. Every scenario ends as "ok" or "FAILED" in its guest's status; a guest that did not
# boot, or scenarios that never ran, are errors naming the engine and the console log.
guest_run() {
    local out=$1; shift
    local names=("$@") n=${GUESTS:-$(nproc)} g pids=() failed=0
    [ "$n" -ge 1 ] || n=1
    [ "$n" -le ${#names[@]} ] || n=${#names[@]}
    guest_choose || return 1
    case "$out/" in /tmp/*|/var/tmp/*)
        [ "$GUEST_ENGINE" = uml ] || { echo "lab: $out is under /tmp or /var/tmp, which $GUEST_ENGINE guests do not share: capture elsewhere" >&2; return 1; } ;;
    esac
    echo "== lab: guest engine $GUEST_ENGINE: $GUEST_WHY; ${#names[@]} scenarios in $n guest(s)"
    GUEST_ENGINE_USED=$GUEST_ENGINE
    # Inside the guest the scenarios' own files (pluto sockets, logs) live on the guest's tmpfs /run: unix
    # sockets on 9p are not reliable, and nothing there needs to outlive the scenario but its capture.
    for ((g = 0; g < n; g++)); do
        local share=() k body dir="$WORK_ROOT/guest-$g"
        for ((k = g; k < ${#names[@]}; k += n)); do share+=("${names[$k]}"); done
        rm -rf "$dir"; mkdir -p "$dir"
        body="IPSEC_DOCTOR_BIN=${IPSEC_DOCTOR_BIN:-} LAB_WORK=$WORK_ROOT bash $LAB_DIR/lab.sh guest-share $dir/status $out ${share[*]}"
        guest_init "$GUEST_ENGINE" "$dir/status" "$body" > "$dir/init.sh"; chmod +x "$dir/init.sh"
        printf '%s\n' "${share[@]}" > "$dir/scenarios"
        guest_boot "$GUEST_ENGINE" "$dir/init.sh" "$dir/console.log" "${GUEST_SECONDS:-2400}" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || true; done
    for ((g = 0; g < n; g++)); do
        local dir="$WORK_ROOT/guest-$g" s
        if ! grep -q '^booted ' "$dir/status" 2>/dev/null; then
            echo "lab: guest $g ($GUEST_ENGINE) failed to boot; console log $dir/console.log:" >&2
            tail -n 15 "$dir/console.log" >&2 || true
            failed=1; continue
        fi
        while read -r s; do
            if grep -qx "ok $s" "$dir/status"; then echo "ok $s ($GUEST_ENGINE, $(sed -n 's/^booted //p' "$dir/status"))"
            elif grep -qx "FAILED $s" "$dir/status"; then
                echo "FAILED $s ($GUEST_ENGINE): see $WORK_ROOT/guest-$s.log" >&2; tail -n 20 "$WORK_ROOT/guest-$s.log" >&2 || true; failed=1
            else
                echo "FAILED $s ($GUEST_ENGINE): never finished (guest stopped or timed out); console log $dir/console.log" >&2; failed=1
            fi
        done < "$dir/scenarios"
    done
    return $failed
}

# guest_share STATUS OUT NAME...: inside a guest, each scenario in turn, "ok NAME" or "FAILED NAME" in STATUS.
guest_share() {
    local status=$1 out=$2 s; shift 2
    mkdir -p /run/ipsec-doctor-lab
    for s in "$@"; do
        if LAB_WORK=/run/ipsec-doctor-lab bash "$LAB_DIR/lab.sh" run-one "$s" "$out/$s" >> "$WORK_ROOT/guest-$s.log" 2>&1; then
            echo "ok $s" >> "$status"
        else
            echo "FAILED $s" >> "$status"
        fi
    done
}

capture() {
    local out=$1; shift
    local names=("$@") host=() guest=() pids=() failed=0 t0
    [ ${#names[@]} -gt 0 ] || mapfile -t names < <(ls "$LAB_DIR"/scenarios/ | sed 's/\.sh$//')
    for n in "${names[@]}"; do
        case "$(scenario_kernel "$n")" in guest|uml) guest+=("$n") ;; *) host+=("$n") ;; esac
    done
    mkdir -p "$out" "$WORK_ROOT"; out=$(cd "$out" && pwd)
    t0=$(date +%s)
    for n in "${host[@]}"; do
        bash "$LAB_DIR/lab.sh" run-one "$n" "$out/$n" > "$WORK_ROOT/host-$n.log" 2>&1 &
        pids+=($!)
    done
    if [ ${#guest[@]} -gt 0 ]; then guest_run "$out" "${guest[@]}" || failed=1; fi
    for p in "${pids[@]}"; do wait "$p" || failed=1; done
    for n in "${names[@]}"; do [ -d "$out/$n/west" ] || { echo "missing capture: $n" >&2; failed=1; }; done
    echo "== lab: ${#host[@]} host and ${#guest[@]} guest scenarios in $(( $(date +%s) - t0 )) s${GUEST_ENGINE_USED:+ (guest engine $GUEST_ENGINE_USED)}"
    return $failed
}

case "${1:-}" in
    list) list ;;
    run-one) run_one "$2" "$3" ;;
    capture) shift; capture "$@" ;;
    expect) write_expect "$2" "$3" ;;
    engine) mkdir -p "$WORK_ROOT"; guest_choose && echo "$GUEST_ENGINE: $GUEST_WHY" ;;
    scratch) lab_scratch ;;
    guest-share) shift; guest_share "$@" ;;
    *) echo "usage: lab.sh list | capture OUT [NAME...] | run-one NAME OUTDIR | expect NAME OUTDIR | engine" >&2; exit 2 ;;
esac
