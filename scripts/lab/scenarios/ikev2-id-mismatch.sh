# IKEv2: west identifies as @west but east expects @west-gw.
east_conn() { conn_body east | sed 's/rightid=@west/rightid=@west-gw/'; }
east_secrets() { echo "@east @west-gw : PSK \"$LAB_PSK\""; }
EXPECT_WEST="psk-mismatch|AUTHENTICATION_FAILED"
EXPECT_PEER="id-mismatch|Peer ID '@west' mismatched"
EXPECT_EAST="id-mismatch|mismatched on first found connection"
# The closed loop: compare's fix applied, the pair restarted (lab.sh fix_loop).
FIX_LOOP=yes
