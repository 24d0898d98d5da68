package main

// The account's timezone (--timezone) must load where the container has no
// /usr/share/zoneinfo (a scratch image, say). The simulator package already
// embeds the timezone database; importing it here keeps the binary carrying
// it should the simulator ever move out of it. The database is linked once
// either way (about 450 KB).
import _ "time/tzdata"
