// The technician page's one script: "share my position", from the phone's own location service.
const button = document.getElementById('share-position')
const status = document.getElementById('share-status')

function share() {
  if (!navigator.geolocation) {
    status.textContent = 'This phone cannot share its position.'
    return
  }
  status.textContent = 'Locating…'
  navigator.geolocation.getCurrentPosition(
    async ({ coords }) => {
      const res = await fetch(button.dataset.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ lat: coords.latitude, lon: coords.longitude, accuracy: coords.accuracy }),
      })
      status.textContent = res.ok
        ? `Position shared at ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}.`
        : 'The position could not be shared; try again.'
      status.dataset.shared = String(res.ok)
    },
    (err) => {
      status.textContent = `No position: ${err.message}`
    },
    { enableHighAccuracy: true, timeout: 15_000 },
  )
}

button?.addEventListener('click', share)
