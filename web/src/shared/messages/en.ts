/** The English dictionary: the same keys as ja.ts, which stays the reference. */
import type { Messages } from './ja.ts';

export const en: Messages = {
  'layout.brand': 'Machi',
  'layout.brandLabel': 'Machi resident portal',
  'layout.documentTitle': '{title} | Machi',
  'layout.skipToContent': 'Skip to main content',
  'layout.language': 'Language',
  'layout.footerNav': 'Machi pages',
  'layout.footerNote': 'Machi is an open-source city OS that municipalities can share (Apache License 2.0).',

  'page.portal': 'Resident portal',
  'page.console': 'Staff console',
  'page.dashboard': 'Open data dashboard',

  'common.comingSoon': 'Coming soon',

  'portal.heading': 'Machi Resident Portal',
  'portal.lead':
    'One place for the procedures, letters, schedule and notices from the municipality where you live.',
  'portal.login.heading': 'Log in',
  'portal.login.note':
    'Logging in with your common ID is coming soon. We will announce it on this page when it is available.',
  'portal.login.action': 'Log in (coming soon)',
  'portal.services.heading': 'What you will be able to do here',
  'portal.services.procedures.title': 'My Procedures',
  'portal.services.procedures.body': 'Procedures that apply to you, with their deadlines.',
  'portal.services.epost.title': 'Electronic Post Box',
  'portal.services.epost.body': 'Receive letters from the municipality online instead of on paper.',
  'portal.services.calendar.title': 'My Calendar',
  'portal.services.calendar.body':
    'Garbage collection days, health checkups, events and other dates that matter to you, in one place.',
  'portal.services.notices.title': 'Notices',
  'portal.services.notices.body': 'Disaster information and news from the municipality.',

  'console.heading': 'Staff console',
  'console.lead':
    'Where municipal staff send notices and electronic letters to residents, publish procedures and run disaster operations.',
  'console.signIn.heading': 'Sign-in required',
  'console.signIn.note':
    'The staff console requires signing in with a staff account and a second factor. Sign-in is coming soon.',
  'console.nav.heading': 'Menu',
  'console.nav.notices.title': 'Notices',
  'console.nav.notices.body': 'Write once, deliver to the portal, push notifications, LINE and email.',
  'console.nav.epost.title': 'Electronic post',
  'console.nav.epost.body': "Send letters to residents' electronic post boxes.",
  'console.nav.procedures.title': 'Procedure catalogue',
  'console.nav.procedures.body': 'Register and manage the procedures offered to residents.',
  'console.nav.disaster.title': 'Disaster management',
  'console.nav.disaster.body': 'Issue evacuation information and manage which shelters are open.',

  'dashboard.heading': 'Open data dashboard',
  'dashboard.lead': 'The municipalities that share Machi, each with its national local government code.',
  'dashboard.tenants.heading': 'Participating municipalities',
  'dashboard.tenants.loading': 'Loading the participating municipalities…',
  'dashboard.tenants.error':
    'Sorry, we could not load the list of participating municipalities. Please try again in a little while.',
  'dashboard.tenants.retry': 'Try again',
  'dashboard.tenants.empty': 'No municipality takes part yet.',
  'dashboard.tenants.summary': 'Number of municipalities: {count}',
  'dashboard.tenants.asOf': 'As of {time} (Japan time)',
  'dashboard.tenants.prefectureCode': 'Local government code {code}',
  'dashboard.tenants.noMunicipalities': 'No municipality of this prefecture takes part yet.',
  'dashboard.tenants.other': 'Other local governments',
  'dashboard.tenants.columnName': 'Municipality',
  'dashboard.tenants.columnCode': 'Code',
};
