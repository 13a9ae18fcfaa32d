package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Shell completion: `costexplorer completion bash|zsh` prints a script whose
// completion function asks the binary itself (`costexplorer __complete
// WORDS…`) for candidates, so completion always matches the commands, the
// operation names and the flags of the binary installed.

const bashCompletion = `# bash completion for costexplorer; load with: source <(costexplorer completion bash)
_costexplorer() {
    local cur="${COMP_WORDS[COMP_CWORD]}"
    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" 2>/dev/null)" -- "$cur"))
}
complete -o default -F _costexplorer costexplorer
`

const zshCompletion = `#compdef costexplorer
# zsh completion for costexplorer; load with: source <(costexplorer completion zsh)
_costexplorer() {
    local -a candidates
    candidates=("${(@f)$(${words[1]} __complete ${words[2,CURRENT-1]} 2>/dev/null)}")
    compadd -a candidates
}
compdef _costexplorer costexplorer
`

func runCompletion(ctx context.Context, m *Main, args []string) error {
	fs := m.newFlagSet("completion", "completion bash|zsh",
		"source <(costexplorer completion bash)     # in ~/.bashrc",
		"source <(costexplorer completion zsh)      # in ~/.zshrc")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch fs.Arg(0) {
	case "bash":
		fmt.Fprint(m.Stdout, bashCompletion)
	case "zsh":
		fmt.Fprint(m.Stdout, zshCompletion)
	default:
		fs.Usage()
		return fmt.Errorf("%w: name a shell: bash or zsh", errUsage)
	}
	return nil
}

// runComplete prints the candidates for the word after args, one a line.
func runComplete(ctx context.Context, m *Main, args []string) error {
	var out []string
	switch {
	case len(args) == 0:
		for _, c := range commands() {
			out = append(out, c.name)
		}
	case args[0] == "admin" && len(args) <= 2:
		seen := map[string]bool{}
		for _, c := range adminCommands() {
			words := strings.Fields(c.name)
			if len(args) == 1 && !seen[words[0]] {
				out = append(out, words[0])
				seen[words[0]] = true
			} else if len(args) == 2 && len(words) == 2 && words[0] == args[1] {
				out = append(out, words[1])
			}
		}
		if len(out) == 0 {
			out = helpFlags(ctx, m, args)
		}
	case args[0] == "api" && len(args) <= 2:
		seen := map[string]bool{}
		for _, op := range apiOperations {
			if len(args) == 1 && !seen[op.tag] {
				out = append(out, op.tag)
				seen[op.tag] = true
			} else if len(args) == 2 && op.tag == args[1] {
				out = append(out, op.names...)
			}
		}
	case args[0] == "invoices" && len(args) == 1:
		out = []string{"list", "show"}
	case args[0] == "completion":
		out = []string{"bash", "zsh"}
	default:
		out = helpFlags(ctx, m, args)
	}
	sort.Strings(out)
	for _, s := range out {
		fmt.Fprintln(m.Stdout, s)
	}
	return nil
}

var flagLine = regexp.MustCompile(`(?m)^\s+-([a-zA-Z][\w-]*)`)

// helpFlags returns the --flags of the command named by args, read from
// its own --help text so that they never drift from the flag sets.
func helpFlags(ctx context.Context, m *Main, args []string) []string {
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			break
		}
		words = append(words, a)
	}
	var help bytes.Buffer
	sub := &Main{Stdin: strings.NewReader(""), Stdout: &help, Stderr: &help, Getenv: func(string) string { return "" }, Now: m.Now}
	sub.Run(ctx, append(words, "--help"))
	var out []string
	for _, mm := range flagLine.FindAllStringSubmatch(help.String(), -1) {
		out = append(out, "--"+mm[1])
	}
	return out
}
