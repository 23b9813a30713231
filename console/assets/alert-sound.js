// How the console makes itself heard: a WebAudio tone, then a site's recording or the alert spoken in the
// console's language. Its controls in the bar: the touch browsers need before sound, mute, and the language.

const speechLangs = { fr: 'fr-FR', en: 'en-GB' }
const toneMs = 600
const mutedKey = 'vigie-sound-muted'
const languageKey = 'vigie-sound-language'
// What browsers count as the user's activation of a page.
const touches = ['click', 'keydown']

/** Resolves when `done(finish)` calls finish, or after `ms` at the latest: an engine may never say it ended. */
function settle(ms, done) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    done(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/**
 * `controls` holds #sound-unlock, #sound-mute and #sound-language. `announce([{ fr, en, recording }])` plays
 * the tone then each message in turn; it answers false when muted or still busy with the previous round.
 */
export function createAlarmSound({ controls, storage = localStorage, onUnlock = () => {} }) {
  const unlockButton = controls.querySelector('#sound-unlock')
  const muteButton = controls.querySelector('#sound-mute')
  const languageSelect = controls.querySelector('#sound-language')
  const speech = globalThis.speechSynthesis ?? null
  const audio = new Audio()
  let context = null
  let unlocked = false
  let busy = false
  let round = 0

  const muted = () => storage.getItem(mutedKey) === 'true'
  const language = () => {
    const chosen = storage.getItem(languageKey)
    if (chosen === 'fr' || chosen === 'en') return chosen
    return navigator.language?.toLowerCase().startsWith('fr') ? 'fr' : 'en'
  }

  function showMute() {
    muteButton.setAttribute('aria-pressed', String(muted()))
    muteButton.textContent = muted() ? 'Sound off' : 'Sound on'
  }

  // Browsers play nothing until the page was touched; a page load must ask again.
  function unlock() {
    if (unlocked) return
    unlocked = true
    unlockButton.hidden = true
    for (const type of touches) document.removeEventListener(type, unlock, { capture: true })
    const Context = globalThis.AudioContext ?? globalThis.webkitAudioContext
    if (Context) {
      context = new Context()
      context.resume().catch(() => {})
    }
    // Safari lets speech talk later only once an utterance started inside a touch.
    speech?.speak(new SpeechSynthesisUtterance(''))
    onUnlock()
  }

  function tone() {
    if (!context) return
    const start = context.currentTime + 0.02
    for (const [i, frequency] of [880, 660].entries()) {
      const at = start + i * 0.25
      const oscillator = context.createOscillator()
      const gain = context.createGain()
      oscillator.frequency.value = frequency
      gain.gain.setValueAtTime(0.0001, at)
      gain.gain.exponentialRampToValueAtTime(0.4, at + 0.02)
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.22)
      oscillator.connect(gain).connect(context.destination)
      oscillator.start(at)
      oscillator.stop(at + 0.25)
    }
  }

  function say(text) {
    if (!speech) return Promise.resolve()
    const utterance = new SpeechSynthesisUtterance(text)
    utterance.lang = speechLangs[language()]
    const voice = speech.getVoices().find((v) => v.lang.toLowerCase().startsWith(language()))
    if (voice) utterance.voice = voice
    return settle(2000 + text.length * 90, (finish) => {
      utterance.onend = finish
      utterance.onerror = finish
      speech.speak(utterance)
    })
  }

  /** True once the recording played; false when it could not (unreachable, refused by the CSP, not audio). */
  async function play(url) {
    let ok = true
    await settle(60_000, (finish) => {
      const fail = () => {
        ok = false
        finish()
      }
      audio.onended = finish
      audio.onerror = fail
      audio.src = url
      audio.play().catch(fail)
    })
    return ok
  }

  async function announce(messages) {
    if (muted() || busy) return false
    busy = true
    const mine = ++round
    try {
      tone()
      await settle(toneMs, () => {})
      for (const message of messages) {
        // Muted or silenced meanwhile: stop here.
        if (mine !== round || muted()) break
        const played = message.recording ? await play(message.recording) : false
        if (!played && mine === round) await say(message[language()])
      }
    } finally {
      if (mine === round) busy = false
    }
    return true
  }

  function hush() {
    round++
    busy = false
    speech?.cancel()
    audio.pause()
  }

  unlockButton.hidden = false
  unlockButton.addEventListener('click', unlock)
  // Any touch or key on the page counts as well: it is what the browser waits for.
  for (const type of touches) document.addEventListener(type, unlock, { capture: true })
  muteButton.addEventListener('click', () => {
    storage.setItem(mutedKey, String(!muted()))
    if (muted()) hush()
    showMute()
  })
  languageSelect.value = language()
  languageSelect.addEventListener('change', () => storage.setItem(languageKey, languageSelect.value))
  showMute()

  return { announce, hush, unlocked: () => unlocked }
}
