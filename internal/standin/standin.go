// Package standin runs a local stand-in of an AWS service (kinesis-local, dynalite: node
// programs from the repository's npm packages) as a child process for tests and the
// soak: started in a process group of its own, its output in a log file, ready once its
// endpoint answers HTTP, stopped with SIGTERM and then SIGKILL.
package standin

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Process is a running stand-in.
type Process struct {
	name   string
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

// Start runs cmd (its Dir and Env set by the caller) as the stand-in called name, its
// output in logPath, and waits until endpoint answers HTTP, for at most a minute.
func Start(name string, cmd *exec.Cmd, logPath, endpoint string) (*Process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{name: name, cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	if err := p.waitReady(endpoint, time.Minute); err != nil {
		p.Stop()
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("%s did not come up: %w\n%s", name, err, log)
	}
	if listens, ok := listensOn(cmd.Process.Pid, endpoint); ok && !listens {
		p.Stop()
		return nil, fmt.Errorf("%s on %s: %w", name, endpoint, ErrPortTaken)
	}
	return p, nil
}

func (p *Process) waitReady(endpoint string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	// Each probe is bounded: a connection that is accepted and never answered (the
	// process still starting, or another process that took the port) must not hang the
	// test; a run hung here 23 minutes on http.Get.
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return errors.New("process exited")
		default:
		}
		// Any answer will do: the stand-ins answer a GET with an error document.
		resp, err := client.Get(endpoint)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("timed out")
}

// Stop ends the process; after serving traffic it may ignore SIGTERM, so it gets a
// short grace and then SIGKILL.
func (p *Process) Stop() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Report says, for a test that failed, whether the stand-in exited before it was stopped,
// and the end of its log: a stand-in that crashed under a test explains its errors.
func (p *Process) Report() string {
	state := "still running when the test ended"
	select {
	case <-p.exited:
		state = "exited before the test ended: " + p.cmd.ProcessState.String()
	default:
	}
	log, _ := os.ReadFile(p.log)
	if len(log) > 4096 {
		log = log[len(log)-4096:]
	}
	return fmt.Sprintf("%s (pid %d) %s; the end of its log:\n%s", p.name, p.cmd.Process.Pid, state, log)
}
