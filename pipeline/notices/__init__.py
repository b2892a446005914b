"""Documents from confirmed alerts: risk notice, consumer safety warning, recall referral."""
