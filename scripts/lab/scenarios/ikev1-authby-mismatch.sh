# IKEv1 Main Mode: west authenticates with a PSK, east's connection wants RSA signatures.
IKE_VERSION=ikev1
UP_SECONDS=20
east_conn() { conn_body east | sed 's/authby=secret/authby=rsasig/'; }
# West alone sees only silence to its IKEv1 Main Mode: the version is named first, with the other causes.
EXPECT_WEST="ike-version-mismatch|STATE_MAIN_I1"
EXPECT_PEER="auth-failed|no connection has been authorized with authby=PSK"
EXPECT_EAST="auth-failed|no connection has been authorized with authby=PSK"
# The closed loop: compare's fix applied, the pair restarted (lab.sh fix_loop).
FIX_LOOP=yes
