// The tests' view of scripts/system-deps.js: the one message a test throws when a Debian package it
// needs is missing, naming the command that installs it.
const deps = require('../../scripts/system-deps.js') as { missingMessage(name: string): string };

export const missingMessage: (name: string) => string = deps.missingMessage;
