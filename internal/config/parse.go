package config

import (
	"github.com/alecthomas/kong"
)

// KongOptions are the options every parser of the binary uses: the YAML file loader behind
// --config and the help layout. Each setting names its MIP_* variable in its env tag.
func KongOptions() []kong.Option {
	return []kong.Option{
		kong.Configuration(YAMLLoader),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, Summary: true}),
	}
}
