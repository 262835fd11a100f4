//go:build linux

package fetch

import (
	"os/exec"
	"syscall"

	"github.com/chromedp/chromedp"
)

// browserProcess starts the browser in a process group of its own, so the Ctrl-C of a terminal
// (or a signal to the caller's group) does not kill it while the fetcher's owner shuts down
// gracefully; it is still killed when this process dies (Pdeathsig, as chromedp does by default).
func browserProcess() []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = new(syscall.SysProcAttr)
		}
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
		cmd.SysProcAttr.Setpgid = true
	})}
}
