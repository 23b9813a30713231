// Loaded into the console before its own scripts (console-alert.test.ts): records every sound the page starts
// and every CSP refusal. Headless Chromium may have no voice and no speaker, so tests observe calls, not sound.
;(() => {
  const sounds = []
  const refused = []
  Object.assign(globalThis, { sounds, refused })
  const speak = SpeechSynthesis.prototype.speak
  SpeechSynthesis.prototype.speak = function (utterance) {
    // The empty utterance is the unlock gesture's, not an alert.
    if (utterance.text !== '') sounds.push({ kind: 'speak', text: utterance.text, lang: utterance.lang })
    return speak.call(this, utterance)
  }
  const play = HTMLMediaElement.prototype.play
  HTMLMediaElement.prototype.play = function () {
    const sound = { kind: 'play', src: this.src }
    sounds.push(sound)
    const playing = play.call(this)
    // Whether the browser could play it, once it knows.
    playing.then(
      () => Object.assign(sound, { outcome: 'played' }),
      (err) => Object.assign(sound, { outcome: String(err) }),
    )
    return playing
  }
  const start = OscillatorNode.prototype.start
  OscillatorNode.prototype.start = function (when) {
    sounds.push({ kind: 'tone' })
    return start.call(this, when)
  }
  document.addEventListener('securitypolicyviolation', (event) => {
    refused.push(`${event.violatedDirective} ${event.blockedURI}`)
  })
})()
