# The field report: leftsubnets= makes one Child SA (reqid) per subnet pair; replies for 10.1.1.0/24
# come back on the Child SA of 10.1.0.0/24, so west's inbound template check (XfrmInTmplMismatch) drops them.
KERNEL=guest
MONITOR=yes
two_west_subnets
after_up() {
    sleep 2
    # East sends replies for 10.1.1.0/24 through the Child SA (reqid) of 10.1.0.0/24, as in the report.
    local reqid_a
    reqid_a=$(ip netns exec "$E" ip xfrm policy | awk '/^src 10.2.0.0\/24 dst 10.1.0.0\/24/{f=1} f&&/reqid/{print $4; exit}')
    ip netns exec "$E" ip xfrm policy update src 10.2.0.0/24 dst 10.1.1.0/24 dir out \
        tmpl src 192.0.2.2 dst 192.0.2.1 proto esp reqid "$reqid_a" mode tunnel
}
during_sampling() { ping_test "$W" 10.1.1.1 10.2.0.1 56 > "$RUN/west/ping.txt"; }
EXPECT_WEST="multi-subnet-tmpl-mismatch|XfrmInTmplMismatch"
EXPECT_PEER="multi-subnet-tmpl-mismatch|leftsubnets={10.1.0.0/24,10.1.1.0/24}"
