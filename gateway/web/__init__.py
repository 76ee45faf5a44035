"""What the gateway serves to browsers besides JSON: the headers every page carries and the
static files pages load."""
