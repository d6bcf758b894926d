# IKEv2: west authenticates with a PSK, east only accepts AUTH_NULL.
east_conn() { conn_body east | sed 's/authby=secret/authby=null/'; }
EXPECT_WEST="psk-mismatch|AUTHENTICATION_FAILED"
EXPECT_PEER="auth-failed|peer attempted PSK authentication"
EXPECT_EAST="auth-failed|peer attempted PSK authentication"
# The closed loop: compare's fix applied, the pair restarted (lab.sh fix_loop).
FIX_LOOP=yes
