/** The smallest site that opens a ticket: one site, one door, one technician, door-forced; tests append to it. */
export const oneDoorSite = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices: [{ id: door-1, kind: door, site: s1, secret: "secret-door-1", location: { lat: 49.0, lon: 2.57 } }]
technicians: [{ id: tech-1, name: One, phone: "+33600000001", skills: [security], location: { lat: 49.001, lon: 2.57 } }]
rules: [{ id: door-forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }]
dispatch: { offerTimeout: 10m, maxOffers: 3, travelSpeedKmh: 5, supervisors: [] }
`
