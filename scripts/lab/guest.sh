# Guests for the lab's "guest" scenarios (real ESP, traffic, xfrm counters): a Linux guest that shares the
# host's root filesystem and runs lab scenarios as root. Sourced by lab.sh.
#
# Engines, chosen by a boot probe (never by the host's name, CPU or kernel):
#   uml  Debian's user-mode Linux (6.1): ~1.5 s a boot; dies on hosts whose XSAVE area it cannot hold
#        (AMX: "ptrace set fp regs failed, errno = 14").
#   kvm  QEMU with KVM and Debian's own kernel (linux-image-amd64) through virtme-ng, root over 9p.
#   tcg  the same QEMU in software emulation: slow (~30-40 s a boot), works wherever QEMU runs.
# LAB_ENGINE=uml|kvm|tcg forces one; a forced engine that does not boot is an error, not a fallback.
#
# Every guest writes "booted <kernel>" to its status file first; a guest that never does failed to boot,
# and the error names the engine and its console log.

GUEST_KERNEL_GLOB=${GUEST_KERNEL_GLOB:-/boot/vmlinuz-*-amd64}
UML_PROBE_SECONDS=${UML_PROBE_SECONDS:-30}
# A working KVM guest reaches its command in a few seconds; a broken one hangs (nested virtualisation).
KVM_PROBE_SECONDS=${KVM_PROBE_SECONDS:-45}

guest_qemu_kernel() {
    local k
    # shellcheck disable=SC2086
    k=$(ls $GUEST_KERNEL_GLOB 2>/dev/null | sort -V | tail -1)
    [ -n "$k" ] && echo "$k"
}

guest_vng() {
    command -v vng 2>/dev/null && return 0
    local s; s=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null)/vng
    [ -x "$s" ] && echo "$s"
}

# UML loads its modules from /lib/modules/<uml version>: link only that version, so the host's stay.
guest_uml_modules() {
    mkdir -p /lib/modules
    if [ -L /lib/modules ]; then return 0; fi   # an older lab linked the whole directory: still works
    for v in /usr/lib/uml/modules/*; do
        [ -e "/lib/modules/$(basename "$v")" ] || ln -sfn "$v" "/lib/modules/$(basename "$v")"
    done
}

# guest_boot ENGINE INIT CONSOLE SECONDS [CPUS]: runs INIT (a bash script) as root inside a guest of
# ENGINE whose root is the host's; INIT's output and the kernel's console go to CONSOLE. Returns when
# the guest is off (or killed at SECONDS, with everything it started).
guest_boot() {
    local engine=$1 init=$2 console=$3 secs=$4 cpus=${5:-1} kernel vng
    case "$engine" in
        uml)
            command -v linux.uml >/dev/null || { echo "linux.uml is not installed (Debian package user-mode-linux)" > "$console"; return 1; }
            guest_uml_modules
            timeout -k 5 "$secs" linux.uml mem=768M root=/dev/root rootfstype=hostfs rootflags=/ rw \
                init="$init" con=null con0=fd:0,fd:1 </dev/null >"$console" 2>&1
            ;;
        kvm|tcg)
            kernel=$(guest_qemu_kernel) || { echo "no kernel matches $GUEST_KERNEL_GLOB (Debian package linux-image-amd64)" > "$console"; return 1; }
            vng=$(guest_vng) || { echo "vng is not installed (PyPI package virtme-ng)" > "$console"; return 1; }
            local accel=()
            [ "$engine" = tcg ] && accel=(--disable-kvm)
            timeout -k 5 "$secs" "$vng" -r "$kernel" "${accel[@]}" --memory 1536M --cpus "$cpus" --force-9p --rw \
                --exec "bash $init" </dev/null >"$console" 2>&1
            ;;
        *) echo "unknown guest engine '$engine' (uml, kvm or tcg)" > "$console"; return 1 ;;
    esac
}

# The init every guest runs: mounts what the engine does not, loads ESP and netfilter modules, then
# INIT_BODY. The status file (on the shared filesystem) says whether the guest booted at all.
guest_init() { # ENGINE STATUS BODY > script
    local engine=$1 status=$2 body=$3
    cat <<EOF
#!/bin/bash
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF
    # UML starts with nothing mounted; virtme-ng mounts /proc, /sys, and a tmpfs /run of its own.
    [ "$engine" = uml ] && cat <<'EOF'
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/run 2>/dev/null || true
EOF
    cat <<EOF
echo "booted \$(uname -r)" >> $status
for m in xfrm_user esp4 esp6 xfrm6_tunnel tunnel6 ip6_tables ip6table_filter veth xfrm4_tunnel tunnel4 ip_tables iptable_nat iptable_filter nf_nat xt_MASQUERADE xt_policy xt_length xt_tcpudp xt_conntrack; do modprobe \$m 2>/dev/null; done
$body
EOF
    [ "$engine" = uml ] && echo "poweroff -f"
    return 0
}

# guest_try ENGINE SECONDS: boots ENGINE once with an init that only reports; true if it booted.
# Sets GUEST_PROBE_NOTE to what happened (kernel and seconds, or the console's last line).
guest_try() {
    local engine=$1 secs=$2 dir="$WORK_ROOT/probe-$1" t0 rc=0
    rm -rf "$dir"; mkdir -p "$dir"
    guest_init "$engine" "$dir/status" "" > "$dir/init.sh"; chmod +x "$dir/init.sh"
    t0=$(date +%s.%N)
    guest_boot "$engine" "$dir/init.sh" "$dir/console.log" "$secs" || rc=$?
    local took; took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
    if grep -q '^booted ' "$dir/status" 2>/dev/null; then
        GUEST_PROBE_NOTE="booted $(sed -n 's/^booted //p' "$dir/status" | head -1) in $took s"
        return 0
    fi
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        GUEST_PROBE_NOTE="no boot within $secs s"
    else
        GUEST_PROBE_NOTE="did not boot (exit $rc): $(grep -v '^\s*$' "$dir/console.log" 2>/dev/null | tail -1 | cut -c1-160)"
    fi
    GUEST_PROBE_NOTE="$GUEST_PROBE_NOTE; console log $dir/console.log"
    return 1
}

# guest_choose: sets GUEST_ENGINE and GUEST_WHY (one line for the test log).
guest_choose() {
    local why=""
    if [ -n "${LAB_ENGINE:-}" ]; then
        GUEST_ENGINE=$LAB_ENGINE
        if [ "$LAB_ENGINE" = tcg ]; then
            GUEST_WHY="forced by LAB_ENGINE=tcg"
            return 0
        fi
        guest_try "$LAB_ENGINE" "$([ "$LAB_ENGINE" = uml ] && echo "$UML_PROBE_SECONDS" || echo "$KVM_PROBE_SECONDS")" || {
            echo "lab: guest engine $LAB_ENGINE (forced by LAB_ENGINE) failed to boot: $GUEST_PROBE_NOTE" >&2
            return 1
        }
        GUEST_WHY="forced by LAB_ENGINE=$LAB_ENGINE; probe $GUEST_PROBE_NOTE"
        return 0
    fi
    if guest_try uml "$UML_PROBE_SECONDS"; then
        GUEST_ENGINE=uml; GUEST_WHY="user-mode Linux $GUEST_PROBE_NOTE"; return 0
    fi
    why="uml: $GUEST_PROBE_NOTE"
    if [ -c /dev/kvm ]; then
        if guest_try kvm "$KVM_PROBE_SECONDS"; then
            GUEST_ENGINE=kvm; GUEST_WHY="$why | kvm: $GUEST_PROBE_NOTE"; return 0
        fi
        why="$why | kvm: $GUEST_PROBE_NOTE"
    else
        why="$why | kvm: no /dev/kvm"
    fi
    # TCG is the last resort: no separate probe (a boot costs ~30-40 s); the real run's status shows a boot.
    GUEST_ENGINE=tcg; GUEST_WHY="$why | tcg: software emulation"
}
